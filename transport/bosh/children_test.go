package bosh

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/xmppconn/xmppconn/internal/xmlframe"
	"github.com/xmppconn/xmppconn/transport"
)

// canonical is an element as a reader of it sees it: names resolved,
// namespace declarations left out, attributes sorted, text merged.
func canonical(elem []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(elem))
	var sb strings.Builder
	var text []byte
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return sb.String(), nil
		}
		if err != nil {
			return "", err
		}
		if t, ok := tok.(xml.CharData); ok {
			text = append(text, t...)
			continue
		}
		if len(text) > 0 {
			fmt.Fprintf(&sb, "%q", text)
			text = text[:0]
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var attrs []string
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					continue
				}
				attrs = append(attrs, fmt.Sprintf("{%s}%s=%q", a.Name.Space, a.Name.Local, a.Value))
			}
			slices.Sort(attrs)
			fmt.Fprintf(&sb, "<{%s}%s %v>", t.Name.Space, t.Name.Local, attrs)
		case xml.EndElement:
			fmt.Fprintf(&sb, "</{%s}%s>", t.Name.Space, t.Name.Local)
		}
	}
}

// sameBody fails t when the usual-body path's result differs from what
// decoding data gives: the attributes, and each child as its reader sees
// it.
func sameBody(t *testing.T, data []byte, usual *body, l transport.Limits) {
	t.Helper()
	decoded, err := decodeBody(data, l)
	if err != nil {
		t.Fatalf("%q: the usual path took a body decoding refuses: %v", data, err)
	}
	u, d := *usual, *decoded
	u.children, d.children = nil, nil
	u.streamError, d.streamError = nil, nil
	if !reflect.DeepEqual(u, d) {
		t.Fatalf("%q: attributes %+v, decoding gives %+v", data, u, d)
	}
	got, _ := canonical(usual.streamError)
	want, _ := canonical(decoded.streamError)
	if got != want || (usual.streamError == nil) != (decoded.streamError == nil) {
		t.Fatalf("%q: stream error %q, decoding gives %q", data, usual.streamError, decoded.streamError)
	}
	if len(usual.children) != len(decoded.children) {
		t.Fatalf("%q: %d children, decoding gives %d", data, len(usual.children), len(decoded.children))
	}
	for i, c := range usual.children {
		if err := xmlframe.Check(c, transport.Limits{MaxElementSize: childrenBudget(l), MaxDepth: l.MaxDepth}); err != nil {
			t.Fatalf("%q: child %q is not self-contained: %v", data, c, err)
		}
		got, err := canonical(c)
		if err != nil {
			t.Fatalf("%q: child %q: %v", data, c, err)
		}
		want, _ := canonical(decoded.children[i])
		if got != want {
			t.Fatalf("%q: child %d is\n%s\ndecoding gives\n%s", data, i, got, want)
		}
	}
}

const (
	bodyOpen        = "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:stream='http://etherx.jabber.org/streams' xmlns:xmpp='urn:xmpp:xbosh' sid='s1' ack='7'>"
	prosodyFeatures = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms>" +
		"<authentication xmlns='urn:xmpp:sasl:2'><mechanism>SCRAM-SHA-1</mechanism><inline><bind xmlns='urn:xmpp:bind:0'/><fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-NONE</mechanism></fast></inline></authentication>" +
		"<sm xmlns='urn:xmpp:sm:3'/></stream:features>"
)

// TestUsualBody: the bodies a session is made of take the fast path, and
// give what decoding them gives; the others are left to decoding.
func TestUsualBody(t *testing.T) {
	l := transport.Limits{}.WithDefaults()
	tests := []struct {
		name  string
		body  string
		usual bool
	}{
		{"empty", "<body xmlns='http://jabber.org/protocol/httpbind' sid='s1' wait='60' hold='1' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh'/>", true},
		{"no children", bodyOpen + "</body>", true},
		{"messages", bodyOpen + "<message to='a@b' id='m1'><body>hi &amp; bye</body></message>\n<iq type='result' id='1'/></body>", true},
		{"own namespace", bodyOpen + "<a xmlns='urn:xmpp:sm:3' h='3'/><r xmlns='urn:xmpp:sm:3'/></body>", true},
		{"CDATA and references", bodyOpen + "<message><body><![CDATA[<b>]]>&#x41;&lt;</body></message></body>", true},
		{"a body prefix used inside", bodyOpen + "<iq type='result'><x xmpp:a='1'/><stream:foo/></iq></body>", true},
		{"a body prefix the child declares again", bodyOpen + "<iq xmlns:stream='urn:other'><stream:foo/></iq></body>", true},
		{"a body prefix only in text", bodyOpen + "<message><body>stream: up</body></message></body>", true},
		{"stream features, prefixed", bodyOpen + prosodyFeatures + "</body>", true},
		{"a stream error", bodyOpen + "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></body>", true},
		{"a stream error, unprefixed", bodyOpen + "<error xmlns='http://etherx.jabber.org/streams'><x/></error></body>", true},
		{"a prefix bound to httpbind", "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:h='http://jabber.org/protocol/httpbind'><m><h:x/></m></body>", false},
		{"a prefixed root whose child inherits", bodyOpen + "<stream:features><x/><y xmlns='urn:y'><z/></y></stream:features></body>", true},
		{"a prefixed uri", "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:s='urn:s'><s:uri/></body>", true},
		{"a quote in a namespace", "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:q=\"urn:it's\"><m><q:x/></m></body>", true},
		{"terminate", "<body xmlns='http://jabber.org/protocol/httpbind' type='terminate'><message/></body>", false},
		{"uri", "<body xmlns='http://jabber.org/protocol/httpbind'><uri>https://x/</uri></body>", false},
		{"a child in httpbind", bodyOpen + "<message xmlns='http://jabber.org/protocol/httpbind'/></body>", false},
		{"a grandchild in httpbind", bodyOpen + "<message><x xmlns='http://jabber.org/protocol/httpbind'/></message></body>", false},
		{"an empty xmlns", bodyOpen + "<message><x xmlns = \"\"/></message></body>", false},
		{"a prefixed body", "<h:body xmlns:h='http://jabber.org/protocol/httpbind'><message/></h:body>", false},
		{"a child in a body prefix", "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:b='urn:b'><b:x><y/></b:x></body>", true},
		{"another default namespace on the body", "<h:body xmlns:h='http://jabber.org/protocol/httpbind' xmlns='urn:other'><x/></h:body>", false},
		{"text between children", bodyOpen + "<a xmlns='urn:a'/>text</body>", false},
		{"a reference in a child's start tag", bodyOpen + "<message id='&amp;'/></body>", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.body)
			if err := xmlframe.Check(data, transport.Limits{MaxElementSize: l.MaxElementSize, MaxDepth: l.MaxDepth + 1}); err != nil {
				if tt.usual {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			b, ok := parseUsualBody(data, childrenBudget(l))
			if ok != tt.usual {
				t.Fatalf("parseUsualBody ok = %v, want %v", ok, tt.usual)
			}
			if ok {
				sameBody(t, data, b, l)
			}
		})
	}
}

// TestUsualBodyBudget: children whose declarations take them past the
// budget are left to decoding, which refuses them.
func TestUsualBodyBudget(t *testing.T) {
	l := transport.Limits{MaxElementSize: 4 << 10}.WithDefaults()
	data := []byte(bodyOpen + strings.Repeat("<a/>", 700) + "</body>")
	if _, ok := parseUsualBody(data, childrenBudget(l)); ok {
		t.Fatal("parseUsualBody took children beyond the budget")
	}
	if _, err := parseBody(data, l); err == nil {
		t.Fatal("parseBody took children beyond the budget")
	}
}

// FuzzUsualBody: whatever body the fast path takes, it gives what decoding
// gives.
func FuzzUsualBody(f *testing.F) {
	for _, s := range []string{
		bodyOpen + "<message to='a@b'><body>hi</body></message><iq type='result' id='1'/></body>",
		bodyOpen + "<iq><x xmpp:a='1'/><stream:foo/></iq><a xmlns='urn:xmpp:sm:3' h='1'/></body>",
		bodyOpen + "<m><![CDATA[x]]>&amp;<n xmlns='urn:n'><o/></n></m></body>",
		bodyOpen + prosodyFeatures + "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></body>",
		"<body xmlns='http://jabber.org/protocol/httpbind' sid='s' wait='60' hold='1' requests='2'/>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l := fuzzLimits.WithDefaults()
		if xmlframe.Check(data, transport.Limits{MaxElementSize: l.MaxElementSize, MaxDepth: l.MaxDepth + 1}) != nil {
			return
		}
		if b, ok := parseUsualBody(data, childrenBudget(l)); ok {
			sameBody(t, data, b, l)
		}
	})
}
