package xmlframe

import (
	"bytes"
	"encoding/xml"
	"errors"
	"testing"

	"github.com/xmppconn/xmppconn/transport"
)

// prosody13StreamError is a stream error as Prosody 13.0.1's mod_websocket
// sends it: the stream prefix undeclared (the bug CheckLenient tolerates).
const prosody13StreamError = "<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" +
	"<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Server is shutting down</text></stream:error>"

func TestCheckLenient(t *testing.T) {
	const decl = " xmlns:stream='http://etherx.jabber.org/streams'"
	tests := []struct {
		name string
		elem string
		want string // the element handed on; "" for an error
	}{
		{"Prosody 13.0.1 mod_websocket, undeclared stream prefix", prosody13StreamError,
			"<stream:error" + decl + prosody13StreamError[len("<stream:error"):]},
		{"self-closing", "<stream:error/>", "<stream:error" + decl + "/>"},
		{"surrounding whitespace", "\n <stream:error ><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>\n",
			"\n <stream:error" + decl + " ><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>\n"},
		{"non-ASCII text (full path)", "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Ersetzt – neue Sitzung</text></stream:error>",
			"<stream:error" + decl + "><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Ersetzt – neue Sitzung</text></stream:error>"},
		{"declared on a child only", "<stream:error><a xmlns:stream='urn:x'/></stream:error>", "<stream:error" + decl + "><a xmlns:stream='urn:x'/></stream:error>"},
		{"declared: unchanged", "<stream:error xmlns:stream='http://etherx.jabber.org/streams'/>", "<stream:error xmlns:stream='http://etherx.jabber.org/streams'/>"},
		{"declared elsewhere: unchanged", "<stream:error xmlns:stream='urn:other'/>", "<stream:error xmlns:stream='urn:other'/>"},
		{"stanza: unchanged", "<message><body>hi</body></message>", "<message><body>hi</body></message>"},

		{"undeclared prefix on a child", "<stream:error><stream:text/></stream:error>", ""},
		{"undeclared prefix on a child of a declared root", "<a><stream:error/></a>", ""},
		{"undeclared prefix on the root's attribute", "<stream:error stream:x='1'/>", ""},
		{"undeclared prefix on another attribute", "<stream:error p:x='1'/>", ""},
		{"stream:features", "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>", ""},
		{"another local name", "<stream:errors/>", ""},
		{"another prefix", "<streams:error/>", ""},
		{"stream:stream", "<stream:stream/>", ""},
		{"malformed otherwise", "<stream:error><a></stream:error>", ""},
		{"duplicate attribute", "<stream:error a='1' a='2'/>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.elem)
			got, err := CheckLenient(in, transport.Limits{})
			if tt.want == "" {
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("CheckLenient = %q, %v; want a *SyntaxError", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("CheckLenient: %v", err)
			}
			if string(got) != tt.want {
				t.Fatalf("CheckLenient = %q, want %q", got, tt.want)
			}
			if string(in) != tt.elem {
				t.Fatalf("CheckLenient modified its input to %q", in)
			}
			if err := Check(got, transport.Limits{}); err != nil {
				t.Fatalf("the element handed on fails Check: %v", err)
			}
		})
	}
}

// TestCheckLenientLimits: the bounds apply as in Check.
func TestCheckLenientLimits(t *testing.T) {
	var le *transport.LimitError
	if _, err := CheckLenient([]byte(prosody13StreamError), transport.Limits{MaxElementSize: 64}); !errors.As(err, &le) || le.What != "element size" {
		t.Errorf("oversized: %v, want LimitError for element size", err)
	}
	if _, err := CheckLenient([]byte("<stream:error><a><b/></a></stream:error>"), transport.Limits{MaxDepth: 2}); !errors.As(err, &le) || le.What != "nesting depth" {
		t.Errorf("too deep: %v, want LimitError for nesting depth", err)
	}
}

// TestCheckLenientStreamNamespace: the element handed on reads as a stream
// error, with its condition and text.
func TestCheckLenientStreamNamespace(t *testing.T) {
	out, err := CheckLenient([]byte(prosody13StreamError), transport.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var se struct {
		XMLName   xml.Name
		Condition struct {
			XMLName xml.Name
		} `xml:"urn:ietf:params:xml:ns:xmpp-streams system-shutdown"`
		Text string `xml:"urn:ietf:params:xml:ns:xmpp-streams text"`
	}
	if err := xml.NewDecoder(bytes.NewReader(out)).Decode(&se); err != nil {
		t.Fatal(err)
	}
	if se.XMLName != (xml.Name{Space: streamsNS, Local: "error"}) || se.Condition.XMLName.Local != "system-shutdown" || se.Text != "Server is shutting down" {
		t.Errorf("decoded %+v", se)
	}
}
