package xmlframe

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// decoderStart is what StartTag must agree with: the first start element
// of an encoding/xml Decoder.
func decoderStart(elem []byte) (xml.StartElement, error) {
	d := xml.NewDecoder(bytes.NewReader(elem))
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.StartElement{}, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se, nil
		}
	}
}

func TestStartTag(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		fast bool // StartTag handles it itself
	}{
		{"message", `<message xmlns='jabber:client' from='a@b/c' to="d@e" type='chat' id='x1'><body>hi</body></message>`, true},
		{"empty element", `<r xmlns='urn:xmpp:sm:3'/>`, true},
		{"no space before slash", `<a h='5'/>`, true},
		{"space before slash", `<a h='5' />`, true},
		{"leading whitespace", "\n\t <iq type='get'/>", true},
		{"prefixed element", `<stream:error xmlns:stream='http://etherx.jabber.org/streams'><x/></stream:error>`, true},
		{"unknown prefix", `<foo:bar a='1'/>`, true},
		{"xml:lang", `<body xml:lang='en'>x</body>`, true},
		{"prefixed attribute", `<a xmlns:p='urn:p' p:q='v' r='s'/>`, true},
		{"redeclared prefix", `<a xmlns:p='urn:1' xmlns:p='urn:2' p:q='v'/>`, true},
		{"xmlns element name", `<xmlns/>`, true},
		{"spaces around equals", `<a b = 'c'/>`, true},
		{"tab and newline in value", "<a b='c\td\ne'/>", true},
		{"quote inside other quote", `<a b="it's" c='say "hi"'/>`, true},
		{"entity in value", `<a b='&amp;'/>`, false},
		{"character reference", `<a b='&#65;'/>`, false},
		{"carriage return", "<a b='c\rd'/>", false},
		{"non-ASCII value", `<a b='é'/>`, false},
		{"non-ASCII name", `<é/>`, false},
		{"prolog", `<?xml version='1.0'?><a/>`, false},
		{"comment first", `<!-- x --><a/>`, false},
		{"two colons", `<a:b:c/>`, false},
		{"trailing colon", `<a: b='c'/>`, false},
		{"unquoted value", `<a b=c/>`, false},
		{"no space between attributes", `<a b='c'd='e'/>`, false},
		{"unterminated value", `<a b='c/>`, false},
		{"unterminated tag", `<a b='c'`, false},
		{"less-than in value", `<a b='<'/>`, false},
		{"empty", ``, false},
		{"text", `hello`, false},
		{"digit first", `<1a/>`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := StartTag([]byte(tc.in))
			if ok != tc.fast {
				t.Fatalf("StartTag(%q) ok = %v, want %v", tc.in, ok, tc.fast)
			}
			if !ok {
				return
			}
			want, err := decoderStart([]byte(tc.in))
			if err != nil {
				t.Fatalf("encoding/xml fails on %q (%v) but StartTag accepted it", tc.in, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("StartTag(%q) differs from encoding/xml (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// FuzzStartTag checks that whatever StartTag accepts, encoding/xml reads
// the same way.
func FuzzStartTag(f *testing.F) {
	for _, s := range []string{
		`<message xmlns='jabber:client' from='a@b/c' type='chat'><body>hi</body></message>`,
		`<stream:error xmlns:stream='http://etherx.jabber.org/streams'/>`,
		`<a xmlns:p='urn:p' p:q='v' xml:lang='en'/>`,
	} {
		f.Add([]byte(s))
	}
	if files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "*", "*")); err == nil {
		for _, name := range files {
			if data, err := os.ReadFile(name); err == nil && len(data) < 4096 {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, elem []byte) {
		got, ok := StartTag(elem)
		if !ok {
			return
		}
		want, err := decoderStart(elem)
		if err != nil && err != io.EOF {
			// encoding/xml may fail later in the element; only the start
			// tag must agree, so cut the input right after it.
			end := bytes.IndexByte(elem, '>')
			want, err = decoderStart(elem[:end+1])
		}
		if err != nil {
			t.Fatalf("encoding/xml fails on %q (%v) but StartTag accepted it", elem, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("StartTag(%q) differs from encoding/xml (-want +got):\n%s", elem, diff)
		}
	})
}

func TestTagEnd(t *testing.T) {
	tests := []struct {
		in          string
		end         int
		selfClosing bool
	}{
		{"<a>text</a>", 3, false},
		{"<a/>", 4, true},
		{"<a b='>' c=\"/>\">x</a>", 16, false},
		{"<a b='x'/>", 10, true},
		{"<a b='>", -1, false},
		{"<a", -1, false},
	}
	for _, tt := range tests {
		end, sc := TagEnd([]byte(tt.in))
		if end != tt.end || sc != tt.selfClosing {
			t.Errorf("TagEnd(%q) = %d, %v; want %d, %v", tt.in, end, sc, tt.end, tt.selfClosing)
		}
	}
}
