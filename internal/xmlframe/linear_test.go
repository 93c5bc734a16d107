package xmlframe

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xmppconn/xmppconn/transport"
)

// manyAttributes returns one element with n distinct attributes.
func manyAttributes(n int) []byte {
	var b strings.Builder
	b.WriteString("<a")
	for i := range n {
		b.WriteString(" a" + strconv.Itoa(i) + "=''")
	}
	b.WriteString("/>")
	return []byte(b.String())
}

// manyPrefixes returns one element declaring n prefixes, with n children
// each using one of them.
func manyPrefixes(n int) []byte {
	var b strings.Builder
	b.WriteString("<a")
	for i := range n {
		b.WriteString(" xmlns:p" + strconv.Itoa(i) + "='u'")
	}
	b.WriteString(">")
	for i := range n {
		b.WriteString("<p" + strconv.Itoa(i) + ":c/>")
	}
	b.WriteString("</a>")
	return []byte(b.String())
}

// manyPrefixedAttributes returns one element declaring n prefixes, each in
// its own namespace, and one attribute in each.
func manyPrefixedAttributes(n int) []byte {
	var b strings.Builder
	b.WriteString("<a")
	for i := range n {
		p := strconv.Itoa(i)
		b.WriteString(" xmlns:p" + p + "='u" + p + "' p" + p + ":x=''")
	}
	b.WriteString("/>")
	return []byte(b.String())
}

// TestCheckLarge checks elements with more attributes and prefix
// declarations than the pairwise checks handle, where maps take over: the
// same answers, at sizes where a quadratic check would take minutes.
func TestCheckLarge(t *testing.T) {
	const n = 50000
	attrs := func(extra string) string {
		return strings.TrimSuffix(string(manyAttributes(n)), "/>") + extra + "/>"
	}
	decls := func(from, to int) string {
		var b strings.Builder
		for i := from; i < to; i++ {
			b.WriteString(" xmlns:p" + strconv.Itoa(i) + "='u'")
		}
		return b.String()
	}
	tests := []struct {
		name string
		elem string
		ok   bool
	}{
		{"many attributes", string(manyAttributes(n)), true},
		{"duplicate last attribute", attrs(" a0='x'"), false},
		{"many prefixes used by children", string(manyPrefixes(n)), true},
		{"many prefixed attributes", string(manyPrefixedAttributes(n)), true},
		{"duplicate prefixed attribute", strings.TrimSuffix(string(manyPrefixedAttributes(n)), "/>") + " p7:x='y'/>", false},
		{"undeclared prefix among many", "<a" + decls(0, n) + "><q:c/></a>", false},
		{"prefix out of scope after a sibling", "<a><b" + decls(0, 20) + "/><p3:c/></a>", false},
		{"prefix out of scope, map built deeper", "<a" + decls(0, 5) + "><b" + decls(5, 20) + "/><p10:c/></a>", false},
		{"outer declaration survives an inner one", "<a" + decls(0, 20) + "><b" + decls(0, 20) + "/><p3:c/></a>", true},
		{"prefix used inside the element that declares it", "<a><b" + decls(0, 20) + "><p19:c/></b></a>", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check([]byte(tt.elem), transport.Limits{MaxElementSize: 4 << 20})
			if tt.ok && err != nil {
				t.Fatalf("Check = %v, want nil", err)
			}
			var se *SyntaxError
			if !tt.ok && !errors.As(err, &se) {
				t.Fatalf("Check = %v, want *SyntaxError", err)
			}
		})
	}
}

// TestAppendElementManyNamespaces: with more generated prefixes than
// AppendElement looks up pairwise, every namespace is still declared where
// it is used, and again in a sibling once its first declaration is out of
// scope.
func TestAppendElementManyNamespaces(t *testing.T) {
	var in strings.Builder
	in.WriteString("<r xmlns='jabber:client'>")
	for range 2 { // two siblings with the same attribute namespaces
		in.WriteString("<c")
		for i := range 20 {
			p := strconv.Itoa(i)
			in.WriteString(" xmlns:p" + p + "='u" + p + "' p" + p + ":x='" + p + "'")
		}
		in.WriteString("><d xmlns:q='u3' q:y='1'/></c>")
	}
	in.WriteString("</r>")
	d := xml.NewDecoder(strings.NewReader(in.String()))
	tok, err := d.Token()
	if err != nil {
		t.Fatal(err)
	}
	out, err := AppendElement(nil, tok.(xml.StartElement), d, "jabber:client")
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(out, transport.Limits{}); err != nil {
		t.Fatalf("AppendElement = %q fails Check: %v", out, err)
	}
	if diff := cmp.Diff(tokens(t, in.String()), tokens(t, string(out))); diff != "" {
		t.Errorf("AppendElement = %q reads differently (-in +out):\n%s", out, diff)
	}
	// <d/> reuses the prefix its parent declared for u3.
	if got := strings.Count(string(out), "='u3'"); got != 2 {
		t.Errorf("u3 declared %d times in %q, want once per sibling", got, out)
	}
}

// BenchmarkCheckLinear measures Check on elements with many attributes,
// prefix declarations and prefixed attributes, at 1x, 10x and 100x the
// count: ns/op must grow by about 10x per step.
func BenchmarkCheckLinear(b *testing.B) {
	for _, bc := range []struct {
		name string
		base int
		make func(int) []byte
	}{
		{"attributes", 900, manyAttributes},
		{"prefixes", 300, manyPrefixes},
		{"prefixed-attributes", 200, manyPrefixedAttributes},
	} {
		for _, scale := range []int{1, 10, 100} {
			elem := bc.make(bc.base * scale)
			b.Run(bc.name+"/"+strconv.Itoa(scale)+"x", func(b *testing.B) {
				b.SetBytes(int64(len(elem)))
				for b.Loop() {
					if err := Check(elem, transport.Limits{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkAppendElementLinear measures AppendElement on one element with
// attributes in many namespaces (each needs a generated prefix), at 1x, 10x
// and 100x the count.
func BenchmarkAppendElementLinear(b *testing.B) {
	for _, scale := range []int{1, 10, 100} {
		elem := manyPrefixedAttributes(200 * scale)
		b.Run("prefixed-attributes/"+strconv.Itoa(scale)+"x", func(b *testing.B) {
			b.SetBytes(int64(len(elem)))
			for b.Loop() {
				d := xml.NewDecoder(bytes.NewReader(elem))
				tok, err := d.Token()
				if err != nil {
					b.Fatal(err)
				}
				if _, err := AppendElement(nil, tok.(xml.StartElement), d, "jabber:client"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
