package xmlframe

import (
	"testing"

	"github.com/xmppconn/xmppconn/transport"
)

// TestCheckFast: what the fast path takes (the usual stanzas and stream
// elements) the full check takes too; everything unusual or wrong goes to
// the full check.
func TestCheckFast(t *testing.T) {
	for _, tc := range []struct {
		elem  string
		depth int
		fast  bool
	}{
		{"<message xmlns='jabber:client' to='a@b/c' type='chat' id='x1'><body>hello &amp; bye</body></message>", 16, true},
		{`<stream:features xmlns:stream="http://etherx.jabber.org/streams"><mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>PLAIN</mechanism></mechanisms><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></stream:features>`, 16, true},
		{"<iq type='result' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>u@h/r</jid></bind></iq>", 16, true},
		{"<r xmlns='urn:xmpp:sm:3'/>", 16, true},
		{"<presence xml:lang='en'\n  from='a@b'><status>x &gt; y</status></presence>", 16, true},
		{"<a xmlns:p='urn:p' p:x='1'><p:b/></a>", 16, true},
		{"<a><b><c/></b></a>", 3, true},
		{"<a x='1>2'/>", 16, true},
		// Prosody 13's BOSH session creation response: 14 attributes.
		{"<body wait='60' xmlns:stream='http://etherx.jabber.org/streams' sid='ef2670c9' inactivity='60' hold='1' secure='true' xmlns='http://jabber.org/protocol/httpbind' polling='5' xmpp:version='1.0' ver='1.6' authid='ef2670c9' from='localhost' requests='2' xmlns:xmpp='urn:xmpp:xbosh'><stream:features xmlns='jabber:client'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features></body>", 16, true},

		// Limits and errors: the full check decides and gives the error.
		{"<a><b><c/></b></a>", 2, false},
		{"<a x='1' x='2'/>", 16, false},
		{"<a a='1' b='1' c='1' d='1' e='1' f='1' g='1' h='1' i='1' j='1' k='1' l='1' m='1' n='1' o='1' p='1' q='1'/>", 16, false},
		{"<p:a/>", 16, false},
		{"<a xmlns:p=''/>", 16, false},
		{"<xmlns:a/>", 16, false},
		{"<a><b></a></b>", 16, false},
		{"<a>", 16, false},
		{"<a/><b/>", 16, false},
		{"<a/>text", 16, false},
		{"<a x=1/>", 16, false},
		{"<a x='<'/>", 16, false},
		{"<a>&unknown;</a>", 16, false},
		{"<a>\x01</a>", 16, false},
		{"<a / >", 16, false},
		{"< a/>", 16, false},

		// Legal but unusual: also left to the full check.
		{"<a><!-- c --></a>", 16, false},
		{"<a><![CDATA[x]]></a>", 16, false},
		{"<a>&#65;</a>", 16, false},
		{"<a>é</a>", 16, false},
		{"<a b = '1'/>", 16, false},
		{"<a>x]]>y</a>", 16, false},
		{"<a xmlns:xml='http://www.w3.org/XML/1998/namespace'/>", 16, false},
	} {
		got := checkFast([]byte(tc.elem), tc.depth)
		if got != tc.fast {
			t.Errorf("checkFast(%q, %d) = %v, want %v", tc.elem, tc.depth, got, tc.fast)
		}
		if got {
			if _, err := checkFull([]byte(tc.elem), transport.Limits{MaxElementSize: 1 << 16, MaxDepth: tc.depth}, false); err != nil {
				t.Errorf("checkFast took %q, which the full check refuses: %v", tc.elem, err)
			}
		}
	}
}

// TestCheckFastAllocs: the fast path allocates nothing for a usual stanza.
func TestCheckFastAllocs(t *testing.T) {
	elem := []byte("<message xmlns='jabber:client' to='a@b/c' type='chat' id='x1'><body>hello</body></message>")
	if n := testing.AllocsPerRun(100, func() { checkFast(elem, 16) }); n != 0 {
		t.Errorf("checkFast allocates %v times per call", n)
	}
}

// BenchmarkCheck measures Check on a message and on stream features.
func BenchmarkCheck(b *testing.B) {
	for _, bc := range []struct{ name, elem string }{
		{"message", "<message xmlns='jabber:client' to='a@b/c' from='d@e/f' type='chat' id='x1'><body>hello there</body></message>"},
		{"features", `<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms><ver xmlns='urn:xmpp:features:rosterver'/><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://prosody.im' ver='abcdefghijk='/></stream:features>`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			elem := []byte(bc.elem)
			b.ReportAllocs()
			for b.Loop() {
				if err := Check(elem, transport.Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
