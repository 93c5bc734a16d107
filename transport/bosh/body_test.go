package bosh

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/transport"
)

func TestParseBody(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, b *body)
	}{
		{
			name: "several children in order, each self-contained",
			in: "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:stream='http://etherx.jabber.org/streams'>" +
				"<message xmlns='jabber:client' id='1'/> <iq xmlns='jabber:client' id='2' type='result'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>a@b/c</jid></bind></iq>" +
				"<stream:features><sm xmlns='urn:xmpp:sm:3'/></stream:features></body>",
			check: func(t *testing.T, b *body) {
				want := []string{
					"<message xmlns='jabber:client' id='1'/>",
					"<iq xmlns='jabber:client' id='2' type='result'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>a@b/c</jid></bind></iq>",
					"<stream:features xmlns:stream='http://etherx.jabber.org/streams'><sm xmlns='urn:xmpp:sm:3'/></stream:features>",
				}
				if diff := cmp.Diff(want, strings_(b.children)); diff != "" {
					t.Errorf("children (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "children inheriting the httpbind namespace go to jabber:client",
			in:   "<body xmlns='http://jabber.org/protocol/httpbind'><message to='x'><body>hi</body></message></body>",
			check: func(t *testing.T, b *body) {
				want := []string{"<message xmlns='jabber:client' to='x'><body>hi</body></message>"}
				if diff := cmp.Diff(want, strings_(b.children)); diff != "" {
					t.Errorf("children (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "declaration, attributes",
			in: "<?xml version='1.0' encoding='utf-8'?>\n<body wait='60' inactivity='30' polling='5' requests='2' hold='1' ack='4294967300' maxpause='120' " +
				"sid='s1' from='example.com' xml:lang='de' xmpp:version='1.0' xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh'/>",
			check: func(t *testing.T, b *body) {
				got := [...]any{b.wait, b.inactivity, b.polling, b.requests, b.hold, b.ack, b.maxpause, b.sid, b.from, b.lang, b.xmppVersion, len(b.children)}
				want := [...]any{int64(60), int64(30), int64(5), int64(2), int64(1), uint64(4294967300), int64(120), "s1", "example.com", "de", "1.0", 0}
				if got != want {
					t.Errorf("got %v, want %v", got, want)
				}
			},
		},
		{
			name: "absent numbers",
			in:   "<body xmlns='http://jabber.org/protocol/httpbind'/>",
			check: func(t *testing.T, b *body) {
				if b.wait != -1 || b.hold != -1 || b.requests != -1 || b.ack != 0 || b.report != 0 {
					t.Errorf("absent attributes read as %+v", b)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := parseBody([]byte(tt.in), transport.Limits{})
			if err != nil {
				t.Fatalf("parseBody: %v", err)
			}
			tt.check(t, b)
		})
	}
}

func strings_(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

func TestMalformedBody(t *testing.T) {
	deep := "<body xmlns='http://jabber.org/protocol/httpbind'>" + strings.Repeat("<a>", 5) + strings.Repeat("</a>", 5) + "</body>"
	big := "<body xmlns='http://jabber.org/protocol/httpbind'><message xmlns='jabber:client'><body>" + strings.Repeat("x", 600) + "</body></message></body>"
	limits := transport.Limits{MaxElementSize: 512, MaxDepth: 4}
	malformed := func(t *testing.T, err error) {
		t.Helper()
		var me *MalformedError
		if !asError(err, &me) {
			t.Fatalf("error = %v, want *MalformedError", err)
		}
	}
	limit := func(what string) func(t *testing.T, err error) {
		return func(t *testing.T, err error) {
			t.Helper()
			var le *transport.LimitError
			if !asError(err, &le) || le.What != what {
				t.Fatalf("error = %v, want %s limit", err, what)
			}
		}
	}
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, err error)
	}{
		{"empty", "", malformed},
		{"unclosed", "<body xmlns='http://jabber.org/protocol/httpbind'><message xmlns='jabber:client'>", malformed},
		{"not xml", "HTTP binding here", malformed},
		{"other root", "<html><body/></html>", malformed},
		{"wrong namespace", "<body xmlns='jabber:client'/>", malformed},
		{"text in body", "<body xmlns='http://jabber.org/protocol/httpbind'>hello</body>", malformed},
		{"bad number", "<body ack='many' xmlns='http://jabber.org/protocol/httpbind'/>", malformed},
		{"negative number", "<body requests='-2' xmlns='http://jabber.org/protocol/httpbind'/>", malformed},
		{"undeclared prefix", "<body xmlns='http://jabber.org/protocol/httpbind'><foo:bar/></body>", malformed},
		{"doctype", "<!DOCTYPE body><body xmlns='http://jabber.org/protocol/httpbind'/>", malformed},
		{"two roots", "<body xmlns='http://jabber.org/protocol/httpbind'/><body xmlns='http://jabber.org/protocol/httpbind'/>", malformed},
		{"unterminated declaration", "<?xml version='1.0'", malformed},
		{"element in uri", "<body type='terminate' condition='see-other-uri' xmlns='http://jabber.org/protocol/httpbind'><uri><a/></uri></body>", malformed},
		{"oversized", big, limit("element size")},
		{"too deep", deep, limit("nesting depth")},
	}
	t.Run("parse", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := parseBody([]byte(tt.body), limits)
				if tt.name == "oversized" {
					// parseBody sees the size too; readBody stops reading first.
					_, err = readBody(strings.NewReader(tt.body), -1, limits.MaxElementSize)
				}
				tt.check(t, err)
			})
		}
	})
	t.Run("session", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFakeServer(t, fakeConfig{}, false)
				c := openFake(t, f, func(o *Options) { o.Limits = limits })
				mustRead(t, c)
				f.awaitHeld(1)
				f.PushBody(tt.body)
				tt.check(t, readErr(t, c))
				if n := len(f.Requests()); n != 2 {
					t.Errorf("%d requests: a bad body was retried", n)
				}
			})
		}
	})
}

func BenchmarkBodyParse(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("<body xmlns='http://jabber.org/protocol/httpbind' xmlns:stream='http://etherx.jabber.org/streams'>")
	for range 10 {
		sb.WriteString("<message xmlns='jabber:client' from='room@conference.example.com/alice' to='bob@example.com/r' type='groupchat' id='abc'>" +
			"<body>Hello, this is a typical chat line.</body><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='participant'/></x></message>")
	}
	sb.WriteString("</body>")
	data := []byte(sb.String())
	// parseBody takes this body by its fast path (parseUsualBody);
	// decodeBody is the path of every other body.
	for _, p := range []struct {
		name  string
		parse func([]byte, transport.Limits) (*body, error)
	}{{"parseBody", parseBody}, {"decodeBody", decodeBody}} {
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.parse(data, transport.Limits{}.WithDefaults()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
