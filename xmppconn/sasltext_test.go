package xmppconn

import (
	"bytes"
	"encoding/xml"
	"testing"

	"github.com/xmppconn/xmppconn/internal/xmlframe"
	"github.com/xmppconn/xmppconn/transport"
)

// saslTextCases are SASL elements: those that are only base64 text, which
// saslText reads, and those it leaves to the XML decoder.
var saslTextCases = []struct {
	elem string
	text string
	ok   bool
}{
	{"<challenge xmlns='urn:xmpp:sasl:2'>cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0wzcmZjTkhZSlkxWlZ2V1ZzN2oscz1RU1hDUitRNnNlazhiZjkyLGk9NDA5Ng==</challenge>", "cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0wzcmZjTkhZSlkxWlZ2V1ZzN2oscz1RU1hDUitRNnNlazhiZjkyLGk9NDA5Ng==", true},
	{"<success xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">=</success>", "=", true},
	{"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", "", true},
	{"<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'></challenge>", "", true},
	{"<challenge a='x>y/' xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>YWJj\nZGVm</challenge>", "YWJj\nZGVm", true},
	{"<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>YWJj\r\nZGVm</challenge>", "", false},
	{"<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>YW&#x4A;j</challenge>", "", false},
	{"<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><![CDATA[YWJj]]></challenge>", "", false},
	{"<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>YW<!-- c -->Jj</challenge>", "", false},
	{"<success xmlns='urn:xmpp:sasl:2'><additional-data>YWJj</additional-data></success>", "", false},
	{"<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>YW Jj</challenge>", "", false},
}

// TestSASLText: saslText reads what is only base64 text, and what it reads
// is what the XML decoder reads.
func TestSASLText(t *testing.T) {
	for _, tc := range saslTextCases {
		text, ok := saslText([]byte(tc.elem))
		if ok != tc.ok || string(text) != tc.text {
			t.Errorf("saslText(%q) = %q, %v; want %q, %v", tc.elem, text, ok, tc.text, tc.ok)
		}
		if ok {
			var v struct {
				Text []byte `xml:",chardata"`
			}
			if err := xml.Unmarshal([]byte(tc.elem), &v); err != nil || !bytes.Equal(v.Text, text) {
				t.Errorf("%q: the decoder reads %q (%v), saslText %q", tc.elem, v.Text, err, text)
			}
		}
	}
}

// FuzzSASLText holds saslText to what the XML decoder reads, for every
// element the transport would pass on.
func FuzzSASLText(f *testing.F) {
	for _, tc := range saslTextCases {
		f.Add([]byte(tc.elem))
	}
	f.Fuzz(func(t *testing.T, elem []byte) {
		if xmlframe.Check(elem, transport.Limits{}) != nil {
			return
		}
		text, ok := saslText(elem)
		if !ok {
			return
		}
		var v struct {
			Text []byte `xml:",chardata"`
		}
		if err := xml.Unmarshal(elem, &v); err != nil {
			t.Fatalf("saslText read %q from %q, which the decoder refuses: %v", text, elem, err)
		}
		if !bytes.Equal(v.Text, text) {
			t.Fatalf("%q: saslText %q, the decoder %q", elem, text, v.Text)
		}
	})
}
