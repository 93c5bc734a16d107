package xmlframe

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xmppconn/xmppconn/transport"
)

// FuzzSplitter feeds arbitrary bytes, cut in three writes, to a Splitter. It
// must never panic, and every element it emits is a piece of the input in
// order. When the input is a sequence of elements that pass Check (found by
// encoding/xml, independently of the Splitter), the Splitter must emit
// exactly those elements: each passes Check, and their concatenation is the
// input without the whitespace between them.
func FuzzSplitter(f *testing.F) {
	for _, s := range []string{
		"<a/>",
		"<message xmlns='jabber:client' to='a@b'><body>hi &amp; bye</body></message>\n<presence/>",
		"<?xml version='1.0'?><iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq></stream:stream>",
		`<a b='x>y' c="/>"><![CDATA[<b>]]></a>`,
		"<stream:features xmlns:stream='http://etherx.jabber.org/streams'><a/></stream:features>",
		"<a><a><a/></a></a>",
		"<a><!-- c --></a>",
	} {
		f.Add([]byte(s), uint(len(s)/3), uint(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, input []byte, cut1, cut2 uint) {
		n := uint(len(input) + 1)
		i, j := int(cut1%n), int(cut2%n)
		if i > j {
			i, j = j, i
		}
		var got [][]byte
		var s Splitter
		var err error
		for _, c := range [][]byte{input[:i], input[i:j], input[j:]} {
			err = s.Write(c, func(e []byte) error {
				got = append(got, bytes.Clone(e))
				return nil
			})
			if err != nil {
				break
			}
		}

		// Emitted elements are pieces of the input, in order.
		pos := 0
		for _, e := range got {
			k := bytes.Index(input[pos:], e)
			if k < 0 || e[0] != '<' || e[len(e)-1] != '>' {
				t.Fatalf("emitted %q is not the next element of the input %q", e, input)
			}
			pos += k + len(e)
		}

		want, ok := oracle(input)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("input %q of valid elements: Splitter error %v", input, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("input %q (-want +got):\n%s", input, diff)
		}
		for _, e := range got {
			if err := Check(e, transport.Limits{MaxElementSize: len(input) + 1, MaxDepth: len(input) + 1}); err != nil {
				t.Fatalf("emitted %q fails Check: %v", e, err)
			}
		}
		if cat, rest := bytes.Join(got, nil), stripBetween(input, want); !bytes.Equal(cat, rest) {
			t.Fatalf("concatenation %q, want %q", cat, rest)
		}
		if s.Buffered() != 0 || s.Ended() {
			t.Fatalf("Buffered() = %d, Ended() = %v after complete elements", s.Buffered(), s.Ended())
		}
	})
}

// oracle finds the top-level elements of input with encoding/xml. It reports
// false unless input is only elements that pass Check, whitespace, and XML
// declarations between them.
func oracle(input []byte) ([][]byte, bool) {
	d := xml.NewDecoder(bytes.NewReader(input))
	var elems [][]byte
	depth := 0
	var start int64
	for {
		off := d.InputOffset()
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			return elems, depth == 0
		}
		if err != nil {
			return nil, false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				start = off
			}
			depth++
		case xml.EndElement:
			depth--
			if depth < 0 {
				return nil, false
			}
			if depth == 0 {
				e := input[start:d.InputOffset()]
				if Check(e, transport.Limits{MaxElementSize: len(input) + 1, MaxDepth: len(input) + 1}) != nil {
					return nil, false
				}
				elems = append(elems, e)
			}
		case xml.CharData:
			if depth == 0 && len(trimSpace(input[off:d.InputOffset()])) != 0 {
				return nil, false
			}
		case xml.ProcInst:
			// The Splitter drops only "<?xml" followed by space or "?".
			raw := input[off:d.InputOffset()]
			if depth != 0 || t.Target != "xml" || len(raw) < 6 || !isSpace(raw[5]) && raw[5] != '?' {
				return nil, false
			}
		default:
			return nil, false
		}
	}
}

// stripBetween returns input without what lies between and around the
// elements it holds (want, in order).
func stripBetween(input []byte, want [][]byte) []byte {
	var out []byte
	pos := 0
	for _, e := range want {
		k := bytes.Index(input[pos:], e)
		out = append(out, e...)
		pos += k + len(e)
	}
	return out
}

// FuzzCheck runs Check and EnsureNamespace on arbitrary bytes, as they run on
// every message a server sends: no panic, and an element that passes Check
// still passes it with its namespace ensured, re-serialized by AppendElement
// too.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"<message to='a'><body>x</body></message>",
		"<stream:features xmlns:stream='http://etherx.jabber.org/streams'/>",
		"<a xmlns:p='urn:p' p:x='1' xml:lang='en'><p:b>t</p:b><![CDATA[<>]]></a>",
		"<a x='1' x='2'/>",
		"<iq type='result' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>u@h/r</jid></bind></iq>",
		"<a xmlns:p=\"urn:p\"><p:b p:c='&lt;&amp;'>x &gt; y</p:b><c/></a>",
		"<a xml:lang='en'\n b='1'><b><c/></b></a >",
	} {
		f.Add([]byte(s))
	}
	limits := transport.Limits{MaxElementSize: 1 << 16, MaxDepth: 16}
	f.Fuzz(func(t *testing.T, elem []byte) {
		// The fast path never accepts what the full check refuses, at
		// any depth bound.
		if trimmed := trimSpace(elem); len(trimmed) > 0 {
			for _, depth := range []int{1, 2, 16} {
				if checkFast(trimmed, depth) {
					if _, err := checkFull(trimmed, transport.Limits{MaxElementSize: 1 << 16, MaxDepth: depth}, false); err != nil {
						t.Fatalf("checkFast(%q, %d) accepted what the full check refuses: %v", trimmed, depth, err)
					}
				}
			}
		}
		if Check(elem, limits) != nil {
			return
		}
		ns := EnsureNamespace(elem, "jabber:client")
		if err := Check(ns, transport.Limits{MaxElementSize: len(ns) + 1, MaxDepth: 16}); err != nil {
			t.Fatalf("EnsureNamespace(%q) = %q fails Check: %v", elem, ns, err)
		}
		d := xml.NewDecoder(bytes.NewReader(ns))
		tok, err := d.Token()
		for err == nil {
			if start, ok := tok.(xml.StartElement); ok {
				out, err := AppendElement(nil, start, d, "jabber:client")
				if err != nil {
					t.Fatalf("AppendElement(%q): %v", ns, err)
				}
				if err := Check(out, transport.Limits{MaxElementSize: 1 << 20, MaxDepth: 16}); err != nil {
					t.Fatalf("AppendElement(%q) = %q fails Check: %v", ns, out, err)
				}
				return
			}
			tok, err = d.Token()
		}
		t.Fatalf("no element in %q: %v", ns, err)
	})
}

// FuzzCheckLenient runs CheckLenient on arbitrary bytes: no panic, errors
// typed, the input never modified, everything Check accepts handed on as it
// is, and anything else it accepts is a stream:error that Check accepts once
// the stream prefix is declared, with nothing changed but that declaration.
func FuzzCheckLenient(f *testing.F) {
	for _, s := range []string{
		prosody13StreamError,
		"<stream:error/>",
		" \n<stream:error ><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>é</text></stream:error>\t",
		"<stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
		"<stream:error><stream:text/></stream:error>",
		"<stream:error stream:x='1'/>",
		"<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
		"<message to='a'><body>x</body></message>",
	} {
		f.Add([]byte(s))
	}
	limits := transport.Limits{MaxElementSize: 1 << 16, MaxDepth: 16}
	f.Fuzz(func(t *testing.T, elem []byte) {
		in := bytes.Clone(elem)
		out, err := CheckLenient(elem, limits)
		if !bytes.Equal(in, elem) {
			t.Fatalf("CheckLenient modified its input %q to %q", in, elem)
		}
		strict := Check(elem, limits)
		if err != nil {
			var (
				se *SyntaxError
				le *transport.LimitError
			)
			if !errors.As(err, &se) && !errors.As(err, &le) {
				t.Fatalf("CheckLenient(%q) = %T %v, want *SyntaxError or *transport.LimitError", elem, err, err)
			}
			if strict == nil {
				t.Fatalf("CheckLenient(%q) = %v, but Check accepts it", elem, err)
			}
			return
		}
		if strict == nil {
			if !bytes.Equal(out, elem) {
				t.Fatalf("CheckLenient(%q) = %q, want it unchanged", elem, out)
			}
			return
		}
		if len(out) != len(elem)+len(streamPrefixDecl) || !bytes.Equal(bytes.Replace(out, []byte(streamPrefixDecl), nil, 1), elem) {
			t.Fatalf("CheckLenient(%q) = %q: more than the declaration changed", elem, out)
		}
		if err := Check(out, transport.Limits{MaxElementSize: 1<<16 + len(streamPrefixDecl), MaxDepth: 16}); err != nil {
			t.Fatalf("CheckLenient(%q) = %q fails Check: %v", elem, out, err)
		}
		start, ok := StartTag(out)
		if !ok {
			d := xml.NewDecoder(bytes.NewReader(trimSpace(out)))
			tok, err := d.Token()
			if start, ok = tok.(xml.StartElement); !ok {
				t.Fatalf("CheckLenient(%q) = %q: no root start tag first (%T, %v)", elem, out, tok, err)
			}
		}
		if start.Name != (xml.Name{Space: streamsNS, Local: "error"}) {
			t.Fatalf("CheckLenient(%q) tolerated root %v", elem, start.Name)
		}
	})
}

// FuzzAppendElement re-serializes the first element of arbitrary bytes, as
// the BOSH transport does with each child of a <body/>, under a bound: no
// panic, errors typed, the output never beyond the bound by more than one
// token, and an element that passes Check comes out passing Check, at
// exactly the size the bound admits.
func FuzzAppendElement(f *testing.F) {
	for _, s := range []string{
		"<message xmlns='jabber:client' to='a@b'><body>hi &amp; bye</body></message>",
		"<body xmlns:p='urn:long'><p:c p:a='1'/><p:c/></body>",
		"<stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
		"<a xmlns:p='urn:p' xmlns:q='urn:q' p:x='&apos;' q:x='\"' xml:lang='en'><b p:y='1'><c q:z='2'/></b></a>",
		"<a><?pi?></a>",
		"<a><!-- c --></a>",
		"<a><b></a>",
		" \n<a x='1'/>",
	} {
		f.Add([]byte(s), uint16(len(s)))
	}
	f.Fuzz(func(t *testing.T, input []byte, bound uint16) {
		d, start, ok := firstStart(input)
		if !ok {
			return
		}
		max := int(bound)
		out, err := AppendElementLimit([]byte("x"), start, d, "jabber:client", max)
		var (
			se *SyntaxError
			le *transport.LimitError
		)
		switch {
		case err == nil:
			if len(out) > max {
				t.Fatalf("AppendElementLimit(%q, %d) = %d bytes, over the bound", input, max, len(out))
			}
		case errors.As(err, &le):
			if le.What != "element size" || le.Limit != max {
				t.Fatalf("AppendElementLimit(%q, %d): %v", input, max, err)
			}
			// One attribute or token beyond: each is at most 6 times the
			// input (escaping) plus a declaration of a namespace it names.
			if len(out) > max+6*len(input)+64 {
				t.Fatalf("AppendElementLimit(%q, %d) = %d bytes, far over the bound", input, max, len(out))
			}
		case errors.As(err, &se):
		default:
			t.Fatalf("AppendElementLimit(%q): %T %v, want *SyntaxError or *transport.LimitError", input, err, err)
		}

		if Check(input, transport.Limits{MaxElementSize: len(input) + 1, MaxDepth: len(input) + 1}) != nil {
			return
		}
		d, start, _ = firstStart(input)
		full, err := AppendElement(nil, start, d, "jabber:client")
		if err != nil {
			t.Fatalf("AppendElement(%q): %v", input, err)
		}
		if err := Check(full, transport.Limits{MaxElementSize: len(full) + 1, MaxDepth: len(input) + 1}); err != nil {
			t.Fatalf("AppendElement(%q) = %q fails Check: %v", input, full, err)
		}
		for _, max := range []int{len(full), len(full) - 1} {
			d, start, _ = firstStart(input)
			_, err := AppendElementLimit(nil, start, d, "jabber:client", max)
			if (err == nil) != (max == len(full)) {
				t.Fatalf("AppendElementLimit(%q, %d) = %v; the element takes %d bytes", input, max, err, len(full))
			}
		}
	})
}

// firstStart returns a Decoder of input that has just read the first start
// tag, and that tag.
func firstStart(input []byte) (*xml.Decoder, xml.StartElement, bool) {
	d := xml.NewDecoder(bytes.NewReader(input))
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, xml.StartElement{}, false
		}
		if s, ok := tok.(xml.StartElement); ok {
			return d, s, true
		}
	}
}
