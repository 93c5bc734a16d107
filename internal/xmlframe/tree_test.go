package xmlframe

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"reflect"
	"testing"
)

// decoderTree reads elem with encoding/xml into the tree Parse makes: the
// reference Parse must agree with.
func decoderTree(elem []byte) (*Node, error) {
	d := xml.NewDecoder(bytes.NewReader(elem))
	var root *Node
	var stack []*Node
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if root == nil || len(stack) > 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return root, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &Node{Name: t.Name}
			if len(t.Attr) > 0 {
				n.Attr = append([]xml.Attr(nil), t.Attr...)
			}
			switch {
			case len(stack) > 0:
				top := stack[len(stack)-1]
				top.Children = append(top.Children, n)
			case root != nil:
				return nil, errors.New("a second root")
			default:
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, errors.New("text outside the root")
			}
		}
	}
}

// TestParse: the tree of the usual elements, names resolved as
// encoding/xml resolves them; everything else goes to encoding/xml.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		elem string
		fast bool
	}{
		{"<success xmlns='urn:xmpp:sasl:2'><additional-data>dj1ab2s=</additional-data><bound xmlns='urn:xmpp:bind:0'><enabled id='f9j' xmlns='urn:xmpp:sm:3' max='60' resume='1'/></bound><token xmlns='urn:xmpp:fast:0' expiry='2026-12-23T12:58:42Z' token='secret-token:x'/><authorization-identifier>u@localhost/r</authorization-identifier></success>", true},
		{`<stream:features xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client"><mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>PLAIN</mechanism></mechanisms></stream:features>`, true},
		{"  <a xmlns:p='urn:p' p:x='1' xml:lang='en'><p:b>x &amp; y &lt; z</p:b>\n<c xmlns=''>t</c></a>\n", true},
		{"<a><b/>one<c/>two</a>", true},
		{"<a x='&quot;&apos;&gt;'/>", true},
		{"<a></a >", true},
		{"<a>x > y</a>", true},

		{"<p:a/>", false},
		{"<a xmlns:p=''/>", false},
		{"<a xmlns:xml='http://www.w3.org/XML/1998/namespace'/>", false},
		{"<a><b></a></b>", false},
		{"<a>", false},
		{"<a/><b/>", false},
		{"<a/>text", false},
		{"<a x=1/>", false},
		{"<a x='<'/>", false},
		{"<a x='1\n2'/>", false},
		{"<a>&unknown;</a>", false},
		{"<a>&#65;</a>", false},
		{"<a>\r\n</a>", false},
		{"<a>é</a>", false},
		{"<a><!-- c --></a>", false},
		{"<a><![CDATA[x]]></a>", false},
		{"<a>x]]>y</a>", false},
		{"<?xml version='1.0'?><a/>", false},
		{"<a/ >", false},
		{"<a x='1'y='2'/>", false},
		{"<a:b:c/>", false},
		{"<a><b><c><d><e><f><g><h><i><j><k><l><m><n><o><p><q/></p></o></n></m></l></k></j></i></h></g></f></e></d></c></b></a>", false},
	} {
		got, ok := Parse([]byte(tc.elem))
		if ok != tc.fast {
			t.Errorf("Parse(%q) ok = %v, want %v", tc.elem, ok, tc.fast)
			continue
		}
		if !ok {
			continue
		}
		want, err := decoderTree([]byte(tc.elem))
		if err != nil {
			t.Errorf("Parse took %q, which encoding/xml refuses: %v", tc.elem, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q) = %s, encoding/xml reads %s", tc.elem, dump(got), dump(want))
		}
	}
}

// FuzzParse: whatever Parse takes, encoding/xml takes and reads the same.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"<success xmlns='urn:xmpp:sasl:2'><additional-data>dj1ab2s=</additional-data><bound xmlns='urn:xmpp:bind:0'><enabled id='f9j' xmlns='urn:xmpp:sm:3' resume='1'/></bound></success>",
		"<a xmlns:p='urn:p' p:x='1' xml:lang='en'><p:b>x &amp; y</p:b><c xmlns=''>t</c></a>",
		"<a><b/>one<c/>two</a>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, elem []byte) {
		got, ok := Parse(elem)
		if !ok {
			return
		}
		want, err := decoderTree(elem)
		if err != nil {
			t.Fatalf("Parse took %q, which encoding/xml refuses: %v", elem, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Parse(%q) = %s, encoding/xml reads %s", elem, dump(got), dump(want))
		}
	})
}

func dump(n *Node) string {
	var b bytes.Buffer
	var walk func(n *Node)
	walk = func(n *Node) {
		b.WriteString("{" + n.Name.Space + " " + n.Name.Local)
		for _, a := range n.Attr {
			b.WriteString(" " + a.Name.Space + ":" + a.Name.Local + "=" + a.Value)
		}
		b.WriteString(" text=" + n.Text)
		for _, c := range n.Children {
			walk(c)
		}
		b.WriteString("}")
	}
	walk(n)
	return b.String()
}

func BenchmarkParse(b *testing.B) {
	elem := []byte("<success xmlns='urn:xmpp:sasl:2'><additional-data>dj12a3NhUlFML1pIbExSLzU5bWhYcitUYnBDRkE9</additional-data><bound xmlns='urn:xmpp:bind:0'><enabled id='f9j_OdQISgSA' xmlns='urn:xmpp:sm:3' max='60' resume='1'/></bound><token xmlns='urn:xmpp:fast:0' expiry='2026-12-23T12:58:42.372194Z' token='secret-token:fast-q2Hg4SvI2JkB3pZ33Yegozg1o59ijh7aO_s2'/><authorization-identifier>uc9898f4f1ac3@localhost/xmppconn~VFlhw3r5vj2L</authorization-identifier></success>")
	b.Run("Parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := Parse(elem); !ok {
				b.Fatal("not parsed")
			}
		}
	})
	b.Run("encoding/xml", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decoderTree(elem); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestParseLinear: many pieces of text and many declarations cost linear
// time (a quadratic Parse would take seconds here).
func TestParseLinear(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("<a>")
	for range 50000 {
		b.WriteString("x<b/>")
	}
	b.WriteString("</a>")
	n, ok := Parse(b.Bytes())
	if !ok || len(n.Text) != 50000 || len(n.Children) != 50000 {
		t.Fatalf("Parse of 50,000 pieces: ok %v", ok)
	}
	b.Reset()
	b.WriteString("<a")
	for i := range 20 {
		b.WriteString(" xmlns:p" + string(rune('a'+i)) + "='urn:x'")
	}
	b.WriteString("/>")
	if _, ok := Parse(b.Bytes()); ok {
		t.Error("Parse kept 20 declarations in scope")
	}
}
