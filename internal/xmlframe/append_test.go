package xmlframe

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xmppconn/xmppconn/transport"
)

// children decodes a <body> wrapper and returns each child serialized with
// AppendElement.
func children(t *testing.T, body, defaultNS string) []string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader([]byte(body)))
	var out []string
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decoding %q: %v", body, err)
		}
		switch tt := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 {
				b, err := AppendElement(nil, tt, d, defaultNS)
				if err != nil {
					t.Fatalf("AppendElement: %v", err)
				}
				out = append(out, string(b))
				depth--
			}
		case xml.EndElement:
			depth--
		}
	}
}

// tokens decodes elem into a comparable list of tokens with namespaces
// resolved and declarations removed.
func tokens(t *testing.T, elem string) []any {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader([]byte(elem)))
	var out []any
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decoding %q: %v", elem, err)
		}
		switch tt := tok.(type) {
		case xml.StartElement:
			var attrs []xml.Attr
			for _, a := range tt.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					continue
				}
				attrs = append(attrs, a)
			}
			out = append(out, xml.StartElement{Name: tt.Name, Attr: attrs})
		case xml.CharData:
			out = append(out, string(tt))
		default:
			out = append(out, xml.CopyToken(tok))
		}
	}
}

func TestAppendElement(t *testing.T) {
	const streams = "http://etherx.jabber.org/streams"
	tests := []struct {
		name string
		body string
		// want holds the exact serialization of each child.
		want []string
		// same holds, for each child, the same element standalone in its
		// original form: the round trip must give the same tokens.
		same []string
	}{
		{
			name: "stream features under body",
			body: "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:stream='" + streams + "'>" +
				"<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features></body>",
			want: []string{"<stream:features xmlns:stream='" + streams + "'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>"},
			same: []string{"<stream:features xmlns:stream='" + streams + "'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>"},
		},
		{
			name: "stanza without namespace gets the default",
			body: "<body xmlns='http://jabber.org/protocol/httpbind'><message xmlns='' to='a@b' xml:lang='en'><body>1 &lt; 2 &amp; &quot;3&quot;</body></message><presence xmlns='jabber:client'/></body>",
			want: []string{
				"<message xmlns='jabber:client' to='a@b' xml:lang='en'><body>1 &lt; 2 &amp; \"3\"</body></message>",
				"<presence xmlns='jabber:client'/>",
			},
			same: []string{
				"<message xmlns='jabber:client' to='a@b' xml:lang='en'><body>1 &lt; 2 &amp; &quot;3&quot;</body></message>",
				"<presence xmlns='jabber:client'/>",
			},
		},
		{
			name: "attribute namespaces get prefixes",
			body: "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh'><iq xmlns='jabber:client' xmpp:version='1.0' type='get'><q xmlns='urn:q' xmlns:a='urn:a' a:x=\"it's\" y='&lt;&gt;&#9;&#10;&#13;'><a:c a:z='2'/></q></iq></body>",
			want: []string{"<iq xmlns='jabber:client' xmlns:ns1='urn:xmpp:xbosh' ns1:version='1.0' type='get'><q xmlns='urn:q' xmlns:ns2='urn:a' ns2:x='it&apos;s' y='&lt;&gt;&#x9;&#xA;&#xD;'><c xmlns='urn:a' ns2:z='2'/></q></iq>"},
			same: []string{"<iq xmlns='jabber:client' xmlns:v='urn:xmpp:xbosh' v:version='1.0' type='get'><q xmlns='urn:q' xmlns:a='urn:a' a:x=\"it's\" y='&lt;&gt;&#9;&#10;&#13;'><a:c a:z='2'/></q></iq>"},
		},
		{
			name: "stream error with stanza-namespace children",
			body: "<body xmlns='http://jabber.org/protocol/httpbind'><stream:error xmlns:stream='" + streams + "'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><x xmlns=''/><stream:y/></stream:error></body>",
			want: []string{"<stream:error xmlns:stream='" + streams + "'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><x xmlns='jabber:client'/><stream:y/></stream:error>"},
			same: []string{"<stream:error xmlns:stream='" + streams + "'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><x xmlns='jabber:client'/><stream:y/></stream:error>"},
		},
		{
			name: "nested default namespaces return to the parent's",
			body: "<body><a xmlns='urn:a'><b xmlns='urn:b'><c/></b><d/>text<![CDATA[<cdata>]]></a></body>",
			want: []string{"<a xmlns='urn:a'><b xmlns='urn:b'><c/></b><d/>text&lt;cdata&gt;</a>"},
			same: []string{"<a xmlns='urn:a'><b xmlns='urn:b'><c/></b><d/>text&lt;cdata&gt;</a>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := children(t, tt.body, "jabber:client")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("serialization (-want +got):\n%s", diff)
			}
			for i, g := range got {
				if err := Check([]byte(g), transport.Limits{}); err != nil {
					t.Errorf("child %d does not pass Check: %v", i, err)
				}
				if diff := cmp.Diff(tokens(t, tt.same[i]), tokens(t, g)); diff != "" {
					t.Errorf("child %d round trip (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

func TestAppendElementErrors(t *testing.T) {
	tests := []struct {
		name string
		rest string // what follows the start tag <a>
	}{
		{"eof inside", "<b>text"},
		{"processing instruction", "<?pi x?></a>"},
		{"directive", "<!DOCTYPE x></a>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := xml.NewDecoder(bytes.NewReader([]byte("<a>" + tt.rest)))
			d.Strict = false // let the decoder hand over what it sees
			tok, err := d.Token()
			if err != nil {
				t.Fatal(err)
			}
			_, err = AppendElement(nil, tok.(xml.StartElement), d, "")
			var se *SyntaxError
			if !errors.As(err, &se) || se.Op != "append" {
				t.Fatalf("AppendElement = %v, want *SyntaxError", err)
			}
		})
	}
}

func TestAppendElementInvalidChars(t *testing.T) {
	start := xml.StartElement{Name: xml.Name{Local: "a"}, Attr: []xml.Attr{{Name: xml.Name{Local: "v"}, Value: "x\x00\"y"}}}
	r := &sliceReader{toks: []xml.Token{xml.CharData("b\x01\xffc"), xml.EndElement{Name: xml.Name{Local: "a"}}}}
	got, err := AppendElement([]byte("pre"), start, r, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := "pre<a v='x\uFFFD&quot;y'>b\uFFFD\uFFFDc</a>"; string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

type sliceReader struct{ toks []xml.Token }

func (r *sliceReader) Token() (xml.Token, error) {
	if len(r.toks) == 0 {
		return nil, io.EOF
	}
	t := r.toks[0]
	r.toks = r.toks[1:]
	return t, nil
}

// TestAppendElementLimit: the bound covers what dst held before, is exact at
// the size of the element, and stops the amplification of a namespace
// declared once on a wrapper and again on each child that uses it.
func TestAppendElementLimit(t *testing.T) {
	const elem = "<message xmlns='jabber:client' to='a'><body>hi</body></message>"
	appendOne := func(dst []byte, max int) ([]byte, error) {
		d := xml.NewDecoder(bytes.NewReader([]byte(elem)))
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		return AppendElementLimit(dst, tok.(xml.StartElement), d, "jabber:client", max)
	}
	full, err := appendOne([]byte("xx"), math.MaxInt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := appendOne([]byte("xx"), len(full)); err != nil {
		t.Errorf("at the bound: %v", err)
	}
	var le *transport.LimitError
	if _, err := appendOne([]byte("xx"), len(full)-1); !errors.As(err, &le) || le.What != "element size" || le.Limit != len(full)-1 {
		t.Errorf("one byte over: %v, want LimitError for element size", err)
	}

	// 2,000 children of a wrapper that declares a 20 KB namespace once:
	// each child declares it again, 40 MB without a bound.
	long := "urn:" + strings.Repeat("x", 20000)
	in := "<body xmlns:p='" + long + "'>" + strings.Repeat("<p:c/>", 2000) + "</body>"
	const max = 1 << 20
	d := xml.NewDecoder(strings.NewReader(in))
	if _, err := d.Token(); err != nil {
		t.Fatal(err)
	}
	var buf []byte
	for {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("the bound never stopped the children: %v (%d bytes)", err, len(buf))
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if buf, err = AppendElementLimit(buf, start, d, "jabber:client", max); err != nil {
			if !errors.As(err, &le) {
				t.Fatalf("AppendElementLimit = %v, want a LimitError", err)
			}
			break
		}
	}
	if len(buf) > max+len(long)+64 {
		t.Errorf("output grew to %d bytes, bound %d", len(buf), max)
	}
}
