package xmlframe

import (
	"encoding/xml"
	"strings"
)

// Node is an element read by Parse.
type Node struct {
	// Name and the names in Attr are resolved as encoding/xml's Decoder
	// resolves them: xmlns declarations are kept as attributes, named
	// {"", "xmlns"} and {"xmlns", prefix}.
	Name xml.Name
	Attr []xml.Attr
	// Text is the character data directly inside the element, entities
	// replaced, as encoding/xml gives it to a string field.
	Text     string
	Children []*Node
}

// maxTreeDepth is the deepest element Parse reads, and maxTreeDecls the
// most namespace declarations it keeps in scope; more goes to encoding/xml.
const (
	maxTreeDepth = 16
	maxTreeDecls = 16
)

// Parse reads elem, one element with optional whitespace around it, into a
// tree. It is the fast path for the small elements a client decodes whole
// during a login, where encoding/xml's Unmarshal costs more CPU than the
// rest of the step. It reports false, and the caller must use encoding/xml,
// whenever elem holds anything it does not read exactly as encoding/xml
// does: bytes outside printable ASCII (but for space, tab and newline in
// character data), entity or character references other than the five
// predefined entities, comments, CDATA, processing instructions, an
// undeclared prefix, a name with more than one colon, more than 16 levels
// or 16 namespace declarations in scope, or malformed syntax. It never
// panics and takes time linear in len(elem).
func Parse(elem []byte) (*Node, bool) {
	p := treeParser{s: string(elem)} // one copy: every name and value is a substring
	p.skipSpace()
	n, ok := p.element(0)
	if !ok {
		return nil, false
	}
	p.skipSpace()
	return n, p.i == len(p.s)
}

// treeParser reads a string of XML from i on, with the namespace
// declarations in scope.
type treeParser struct {
	s     string
	i     int
	decls []nsDecl
}

type nsDecl struct{ prefix, ns string }

func (p *treeParser) skipSpace() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

// rawName reads a name: prefix is empty when it has no colon.
func (p *treeParser) rawName() (prefix, local string, ok bool) {
	n, next, ok := scanName(p.s, p.i)
	if !ok {
		return "", "", false
	}
	p.i = next
	return n.Space, n.Local, true
}

// lookup returns the namespace bound to prefix ("" for the default one).
func (p *treeParser) lookup(prefix string) (string, bool) {
	switch prefix {
	case "xml":
		return xmlURL, true
	case "xmlns":
		return "", false
	}
	for k := len(p.decls) - 1; k >= 0; k-- {
		if p.decls[k].prefix == prefix {
			return p.decls[k].ns, true
		}
	}
	return "", prefix == ""
}

// element reads the element at i.
func (p *treeParser) element(depth int) (*Node, bool) {
	if depth >= maxTreeDepth || p.i >= len(p.s) || p.s[p.i] != '<' {
		return nil, false
	}
	p.i++
	start := p.i
	prefix, local, ok := p.rawName()
	if !ok {
		return nil, false
	}
	rawName := p.s[start:p.i]
	n := &Node{}
	mark := len(p.decls)
	for {
		sp := p.i
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, false
		}
		if c := p.s[p.i]; c == '/' || c == '>' {
			break
		}
		if p.i == sp {
			return nil, false // attributes are separated by space
		}
		ap, al, ok := p.rawName()
		if !ok {
			return nil, false
		}
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != '=' {
			return nil, false
		}
		p.i++
		p.skipSpace()
		v, ok := p.attrValue()
		if !ok {
			return nil, false
		}
		if len(p.decls) >= maxTreeDecls && (ap == "" && al == "xmlns" || ap == "xmlns") {
			return nil, false // lookups stay short: Parse takes linear time
		}
		switch {
		case ap == "" && al == "xmlns":
			p.decls = append(p.decls, nsDecl{"", v})
		case ap == "xmlns":
			if v == "" || al == "xml" || al == "xmlns" {
				return nil, false // illegal or pointless: left to encoding/xml
			}
			p.decls = append(p.decls, nsDecl{al, v})
		}
		n.Attr = append(n.Attr, xml.Attr{Name: xml.Name{Space: ap, Local: al}, Value: v})
	}
	// Resolve as encoding/xml does, with the declarations of the tag in
	// scope; an undeclared prefix goes to encoding/xml.
	ns, ok := p.lookup(prefix)
	if !ok {
		return nil, false
	}
	n.Name = xml.Name{Space: ns, Local: local}
	for k := range n.Attr {
		a := &n.Attr[k].Name
		if a.Space == "" || a.Space == "xmlns" {
			continue
		}
		if a.Space, ok = p.lookup(a.Space); !ok {
			return nil, false
		}
	}
	defer func() { p.decls = p.decls[:mark] }()

	if p.s[p.i] == '/' {
		if p.i+1 >= len(p.s) || p.s[p.i+1] != '>' {
			return nil, false
		}
		p.i += 2
		return n, true
	}
	p.i++ // past '>'
	// The text is mostly one piece, which then costs no copy; more pieces
	// go to a builder, so that many of them cost linear time.
	var text string
	var more *strings.Builder
	for {
		t, ok := p.charData()
		if !ok {
			return nil, false
		}
		switch {
		case t == "":
		case more != nil:
			more.WriteString(t)
		case text == "":
			text = t
		default:
			more = &strings.Builder{}
			more.WriteString(text)
			more.WriteString(t)
		}
		if p.i+1 >= len(p.s) {
			return nil, false
		}
		switch p.s[p.i+1] {
		case '/':
			p.i += 2
			if !strings.HasPrefix(p.s[p.i:], rawName) {
				return nil, false
			}
			p.i += len(rawName)
			p.skipSpace()
			if p.i >= len(p.s) || p.s[p.i] != '>' {
				return nil, false
			}
			p.i++
			n.Text = text
			if more != nil {
				n.Text = more.String()
			}
			return n, true
		case '!', '?':
			return nil, false // comment, CDATA, processing instruction
		}
		child, ok := p.element(depth + 1)
		if !ok {
			return nil, false
		}
		n.Children = append(n.Children, child)
	}
}

// attrValue reads a quoted attribute value, entities replaced.
func (p *treeParser) attrValue() (string, bool) {
	if p.i >= len(p.s) || p.s[p.i] != '\'' && p.s[p.i] != '"' {
		return "", false
	}
	q := p.s[p.i]
	p.i++
	start, plain := p.i, true
	for ; p.i < len(p.s) && p.s[p.i] != q; p.i++ {
		switch c := p.s[p.i]; {
		case c < ' ' || c >= 0x7f || c == '<':
			// encoding/xml keeps tabs and newlines in values as they
			// are; the fast path leaves them to it all the same.
			return "", false
		case c == '&':
			plain = false
		}
	}
	if p.i >= len(p.s) {
		return "", false
	}
	v := p.s[start:p.i]
	p.i++
	if plain {
		return v, true
	}
	return unescape(v)
}

// charData reads up to the next '<', entities replaced.
func (p *treeParser) charData() (string, bool) {
	start, plain := p.i, true
	for ; p.i < len(p.s) && p.s[p.i] != '<'; p.i++ {
		switch c := p.s[p.i]; {
		case c == '\t' || c == '\n':
		case c < ' ' || c >= 0x7f:
			return "", false // \r is normalized by encoding/xml
		case c == '&':
			plain = false
		}
	}
	if p.i >= len(p.s) {
		return "", false
	}
	t := p.s[start:p.i]
	if strings.Contains(t, "]]>") {
		return "", false
	}
	if plain {
		return t, true
	}
	return unescape(t)
}

// unescape replaces the five predefined entities of s; any other
// reference reports false.
func unescape(s string) (string, bool) {
	var b strings.Builder
	b.Grow(len(s))
	for {
		k := strings.IndexByte(s, '&')
		if k < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:k])
		s = s[k:]
		var r byte
		switch {
		case strings.HasPrefix(s, "&lt;"):
			r, s = '<', s[4:]
		case strings.HasPrefix(s, "&gt;"):
			r, s = '>', s[4:]
		case strings.HasPrefix(s, "&amp;"):
			r, s = '&', s[5:]
		case strings.HasPrefix(s, "&quot;"):
			r, s = '"', s[6:]
		case strings.HasPrefix(s, "&apos;"):
			r, s = '\'', s[6:]
		default:
			return "", false
		}
		b.WriteByte(r)
	}
}
