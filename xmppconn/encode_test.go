package xmppconn

import (
	"encoding/xml"
	"errors"
	"regexp"
	"strings"
	"testing"

	"mellium.im/xmlstream"
)

// TestEncodeStanza checks the normalisation of outgoing stanzas, which
// matches what mellium's session encoder did before: namespace, id, empty
// attributes, duplicate namespace declarations.
func TestEncodeStanza(t *testing.T) {
	randomID := regexp.MustCompile(` id="[0-9a-f]{16}"`)
	for _, tc := range []struct {
		name string
		in   string
		want string // with a generated id written as id="ID"
	}{
		{"namespace and id added", `<message to='a@b'><body>hi</body></message>`,
			`<message xmlns="jabber:client" to="a@b" id="ID"><body>hi</body></message>`},
		{"id kept", `<iq xmlns='jabber:client' type='get' id='x1'><ping xmlns='urn:xmpp:ping'/></iq>`,
			`<iq xmlns="jabber:client" type="get" id="x1"><ping xmlns="urn:xmpp:ping"></ping></iq>`},
		{"empty id and from dropped", `<presence id='' from=''/>`,
			`<presence xmlns="jabber:client" id="ID"></presence>`},
		{"not a stanza: untouched", `<r xmlns='urn:xmpp:sm:3'/>`,
			`<r xmlns="urn:xmpp:sm:3"></r>`},
		{"only the first element", `<message id='m1'/><message id='m2'/>`,
			`<message xmlns="jabber:client" id="m1"></message>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := encodeStanza(xml.NewDecoder(strings.NewReader(tc.in)), nil)
			if err != nil {
				t.Fatalf("encodeStanza: %v", err)
			}
			if g := randomID.ReplaceAllString(string(got), ` id="ID"`); g != tc.want {
				t.Errorf("encodeStanza(%s)\n got %s\nwant %s", tc.in, g, tc.want)
			}
		})
	}
}

// TestEncodeStanzaElement: SendElement's form, a start and a payload; a
// start element carrying both a namespace and an xmlns attribute declares
// it once.
func TestEncodeStanzaElement(t *testing.T) {
	start := xml.StartElement{
		Name: xml.Name{Space: "jabber:client", Local: "message"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: "jabber:client"}, {Name: xml.Name{Local: "id"}, Value: "e1"}},
	}
	body := xmlstream.Wrap(xmlstream.Token(xml.CharData("x")), xml.StartElement{Name: xml.Name{Local: "body"}})
	got, err := encodeStanza(body, &start)
	if err != nil {
		t.Fatal(err)
	}
	if want := `<message xmlns="jabber:client" id="e1"><body>x</body></message>`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestEncodeStanzaErrors: a reader that does not start with an element, or
// that is not well formed, is refused, and the encoder's pool stays usable.
func TestEncodeStanzaErrors(t *testing.T) {
	if _, err := encodeStanza(xml.NewDecoder(strings.NewReader(`text`)), nil); !errors.Is(err, errNotStart) {
		t.Errorf("text first: err = %v, want errNotStart", err)
	}
	if _, err := encodeStanza(xml.NewDecoder(strings.NewReader(`<message><body>x</message>`)), nil); err == nil {
		t.Error("mismatched tags: no error")
	}
	got, err := encodeStanza(xml.NewDecoder(strings.NewReader(`<message id='after'/>`)), nil)
	if err != nil || string(got) != `<message xmlns="jabber:client" id="after"></message>` {
		t.Errorf("after errors: %s, %v", got, err)
	}
}

// BenchmarkEncodeStanza measures the encoding of one chat message.
func BenchmarkEncodeStanza(b *testing.B) {
	const msg = `<message to='peer@example.net' type='chat' id='b1'><body>hello</body></message>`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeStanza(xml.NewDecoder(strings.NewReader(msg)), nil); err != nil {
			b.Fatal(err)
		}
	}
}
