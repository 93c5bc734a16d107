package xmlframe

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// split feeds the chunks to a fresh Splitter and returns the elements it
// emitted (copied), whether it saw the end of the stream, and the error.
func split(chunks ...string) (elems []string, s *Splitter, err error) {
	s = new(Splitter)
	for _, c := range chunks {
		err = s.Write([]byte(c), func(e []byte) error {
			elems = append(elems, string(e))
			return nil
		})
		if err != nil {
			return elems, s, err
		}
	}
	return elems, s, nil
}

func bigStanza(n int) string {
	return "<message xmlns='jabber:client' to='a@b'><body>" + strings.Repeat("x", n) + "</body></message>"
}

func TestSplitter(t *testing.T) {
	big := bigStanza(10 << 10)
	tests := []struct {
		name     string
		chunks   []string
		want     []string
		ended    bool
		buffered int
	}{
		{"one element", []string{"<a/>"}, []string{"<a/>"}, false, 0},
		{"10 KB stanza in one write", []string{big}, []string{big}, false, 0},
		{"10 KB stanza in 4096-byte writes", chunk(big, 4096), []string{big}, false, 0},
		{"several stanzas in one write",
			[]string{"<presence/><message to='x'><body>hi</body></message> \n<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>"},
			[]string{"<presence/>", "<message to='x'><body>hi</body></message>", "<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>"}, false, 0},
		{"attribute values with > and /",
			[]string{`<a b='x>y' c="/>" d='say "hi"' e="it's"><c/></a>`},
			[]string{`<a b='x>y' c="/>" d='say "hi"' e="it's"><c/></a>`}, false, 0},
		{"self-closing with spaces", []string{"<a  b = 'c' />\t<b/>"}, []string{"<a  b = 'c' />", "<b/>"}, false, 0},
		{"CDATA with markup", []string{"<a><![CDATA[<b></a>]]]></a>"}, []string{"<a><![CDATA[<b></a>]]]></a>"}, false, 0},
		{"text with >", []string{"<a>1 > 0</a>"}, []string{"<a>1 > 0</a>"}, false, 0},
		{"nested same-name elements", []string{"<a><a><a/></a><a>x</a></a><a/>"}, []string{"<a><a><a/></a><a>x</a></a>", "<a/>"}, false, 0},
		{"prefixed elements", []string{"<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"},
			[]string{"<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"}, false, 0},
		{"trailing stream end", []string{"<presence type='unavailable'/></stream:stream>"}, []string{"<presence type='unavailable'/>"}, true, 0},
		{"stream end split", []string{"<a/></stream:", "stream >"}, []string{"<a/>"}, true, 0},
		{"xml declaration dropped", []string{"<?xml version='1.0'?>\n<a/>"}, []string{"<a/>"}, false, 0},
		{"xml declaration split", []string{"<?x", "ml version='1.0'?", "><a/>"}, []string{"<a/>"}, false, 0},
		{"end tag with space", []string{"<a></a \n>"}, []string{"<a></a \n>"}, false, 0},
		{"incomplete element kept", []string{"<a/> <b><c/>"}, []string{"<a/>"}, false, len("<b><c/>")},
		{"incomplete start tag kept", []string{"<b x='>"}, nil, false, len("<b x='>")},
		{"whitespace only", []string{" \n\t\r "}, nil, false, 0},
		{"utf-8 names and text", []string{"<é a='ü'>日本</é>"}, []string{"<é a='ü'>日本</é>"}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, s, err := split(tt.chunks...)
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("elements (-want +got):\n%s", diff)
			}
			if s.Ended() != tt.ended {
				t.Errorf("Ended() = %v, want %v", s.Ended(), tt.ended)
			}
			if s.Buffered() != tt.buffered {
				t.Errorf("Buffered() = %d, want %d", s.Buffered(), tt.buffered)
			}
		})
	}
}

func chunk(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// TestSplitterEveryBoundary cuts a multi-element input in two at every byte,
// and also feeds it one byte at a time: the elements must not change.
func TestSplitterEveryBoundary(t *testing.T) {
	input := "<?xml version='1.0'?><message xmlns='jabber:client' to='r@c/x' id=\"a>b\"><body>1 &lt; 2 &amp; 3</body>" +
		"<x xmlns='jabber:x:data'><![CDATA[<not/>]]]]><![CDATA[>]]></x></message>\n " +
		"<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>" +
		"<r xmlns='urn:xmpp:sm:3'/></stream:stream>"
	want, _, err := split(input)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 3 {
		t.Fatalf("got %d elements from the whole input, want 3: %q", len(want), want)
	}
	for i := 0; i <= len(input); i++ {
		got, s, err := split(input[:i], input[i:])
		if err != nil {
			t.Fatalf("cut at %d: %v", i, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("cut at %d (-want +got):\n%s", i, diff)
		}
		if !s.Ended() || s.Buffered() != 0 {
			t.Fatalf("cut at %d: Ended() = %v, Buffered() = %d", i, s.Ended(), s.Buffered())
		}
	}
	got, _, err := split(chunk(input, 1)...)
	if err != nil {
		t.Fatalf("byte by byte: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("byte by byte (-want +got):\n%s", diff)
	}
}

func TestSplitterMalformed(t *testing.T) {
	tests := []struct {
		name  string
		input string
		// elements emitted before the error
		before int
	}{
		{"text outside element", "hello", 0},
		{"text after element", "<a/>x", 1},
		{"comment at top", "<!-- c --><a/>", 0},
		{"comment inside", "<a><!-- c --></a>", 0},
		{"doctype", "<a><!DOCTYPE a></a>", 0},
		{"doctype at top", "<!DOCTYPE a><a/>", 0},
		{"processing instruction inside", "<a><?xml version='1.0'?></a>", 0},
		{"other processing instruction at top", "<?php x ?><a/>", 0},
		{"unquoted attribute", "<a b=c/>", 0},
		{"attribute without value", "<a b/>", 0},
		{"lt in attribute value", "<a b='<'/>", 0},
		{"empty name", "< a/>", 0},
		{"empty end tag", "<a></>", 0},
		{"slash without gt", "<a/ >", 0},
		{"garbage in end tag", "<a></a b>", 0},
		{"lt in name", "<a<b/>", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, s, err := split(tt.input)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error = %v, want *SyntaxError", err)
			}
			if se.Op != "split" || se.Offset < 0 || se.Offset > int64(len(tt.input)) {
				t.Errorf("error = %+v", se)
			}
			if len(got) != tt.before {
				t.Errorf("emitted %q before the error, want %d elements", got, tt.before)
			}
			// The Splitter stays broken.
			if err2 := s.Write([]byte("<a/>"), func([]byte) error { t.Error("emit after error"); return nil }); err2 != err {
				t.Errorf("Write after error = %v, want %v", err2, err)
			}
		})
	}
}

func TestSplitterEmitError(t *testing.T) {
	var s Splitter
	stop := errors.New("stop")
	n := 0
	err := s.Write([]byte("<a/><b/><c/>"), func([]byte) error {
		n++
		return stop
	})
	if err != stop || n != 1 {
		t.Fatalf("Write = %v after %d emits, want stop after 1", err, n)
	}
	if err := s.Write([]byte("<d/>"), func([]byte) error { return nil }); err != stop {
		t.Fatalf("Write after emit error = %v, want stop", err)
	}
}

// TestSplitterEmitAliasing checks that the emitted slice holds the element
// even when it comes from the Splitter's own buffer.
func TestSplitterEmitAliasing(t *testing.T) {
	var s Splitter
	var got []string
	emit := func(e []byte) error { got = append(got, string(e)); return nil }
	for _, c := range []string{"<a>", "1</a><b>", "2</b><c>3", "</c>"} {
		if err := s.Write([]byte(c), emit); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{"<a>1</a>", "<b>2</b>", "<c>3</c>"}, got); diff != "" {
		t.Fatal(diff)
	}
}

func BenchmarkSplitter(b *testing.B) {
	stanza := []byte("<message xmlns='jabber:client' to='room@conference.example.com' type='groupchat' id='m1'>" +
		"<body>" + strings.Repeat("hello world ", 20) + "</body><x xmlns='jabber:x:event'><composing/></x></message>")
	big := []byte(bigStanza(10 << 10))
	for _, bc := range []struct {
		name  string
		input []byte
		chunk int
	}{
		{"stanza/whole", stanza, len(stanza)},
		{"stanza/64B chunks", stanza, 64},
		{"10KB/4096B chunks", big, 4096},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var s Splitter
			emit := func([]byte) error { return nil }
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.input)))
			for b.Loop() {
				for p := bc.input; len(p) > 0; {
					n := min(bc.chunk, len(p))
					if err := s.Write(p[:n], emit); err != nil {
						b.Fatal(err)
					}
					p = p[n:]
				}
			}
		})
	}
}
