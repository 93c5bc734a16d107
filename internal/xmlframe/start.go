package xmlframe

import (
	"encoding/xml"
	"strings"
)

// xmlURL is the namespace bound to the xml prefix.
const xmlURL = "http://www.w3.org/XML/1998/namespace"

// maxFastAttrs is the number of attributes StartTag handles without falling
// back; stanzas carry far fewer.
const maxFastAttrs = 16

// StartTag returns the start tag of the element at the beginning of elem
// (after optional whitespace), with names resolved as the first
// xml.StartElement of an encoding/xml Decoder reading elem would have them:
// the element's and attributes' prefixes are bound by the declarations on
// the tag itself (the xml prefix to its namespace, an unknown prefix left as
// it is), xmlns attributes are kept. It is the fast path for reading the
// root of an element received whole: two allocations whatever the number of
// attributes. It reports false, and the caller must use an xml.Decoder,
// whenever the tag holds anything it does not handle exactly as encoding/xml
// does: entity or character references, carriage returns, control or
// non-ASCII bytes, names with more than one colon, a prolog or a comment
// before the element, or malformed syntax. It never panics.
func StartTag(elem []byte) (xml.StartElement, bool) {
	i := 0
	for i < len(elem) && isSpace(elem[i]) {
		i++
	}
	if i >= len(elem) || elem[i] != '<' {
		return xml.StartElement{}, false
	}
	n, _ := TagEnd(elem[i:])
	if n < 0 {
		return xml.StartElement{}, false
	}
	end := i + n - 1 // the '>'
	for _, c := range elem[i+1 : end] {
		if c == '&' || c == '<' || c == '\r' || c >= 0x80 || c < 0x20 && c != '\t' && c != '\n' {
			return xml.StartElement{}, false
		}
	}
	s := string(elem[i+1 : end]) // one allocation: every name and value is a substring
	s = strings.TrimSuffix(s, "/")

	name, p, ok := scanName(s, 0)
	if !ok {
		return xml.StartElement{}, false
	}
	var buf [maxFastAttrs]xml.Attr
	attrs := buf[:0]
	for {
		sp := p
		for p < len(s) && isSpace(s[p]) {
			p++
		}
		if p == len(s) {
			break
		}
		if p == sp || len(attrs) == maxFastAttrs {
			return xml.StartElement{}, false
		}
		var an xml.Name
		if an, p, ok = scanName(s, p); !ok {
			return xml.StartElement{}, false
		}
		for p < len(s) && isSpace(s[p]) {
			p++
		}
		if p == len(s) || s[p] != '=' {
			return xml.StartElement{}, false
		}
		p++
		for p < len(s) && isSpace(s[p]) {
			p++
		}
		if p == len(s) || s[p] != '\'' && s[p] != '"' {
			return xml.StartElement{}, false
		}
		k := strings.IndexByte(s[p+1:], s[p])
		if k < 0 {
			return xml.StartElement{}, false
		}
		attrs = append(attrs, xml.Attr{Name: an, Value: s[p+1 : p+1+k]})
		p += k + 2
	}

	// Resolve as encoding/xml does: declarations first (the last one of a
	// prefix wins), then the element's name, then the attributes'.
	lookup := func(prefix string) (string, bool) {
		v, found := "", false
		for _, a := range attrs {
			if prefix == "" && a.Name.Space == "" && a.Name.Local == "xmlns" ||
				prefix != "" && a.Name.Space == "xmlns" && a.Name.Local == prefix {
				v, found = a.Value, true
			}
		}
		return v, found
	}
	translate := func(n *xml.Name, element bool) {
		switch {
		case n.Space == "xmlns":
			return
		case n.Space == "" && !element:
			return
		case n.Space == "xml":
			n.Space = xmlURL
		case n.Space == "" && n.Local == "xmlns":
			return
		}
		if v, ok := lookup(n.Space); ok {
			n.Space = v
		}
		// Otherwise an unknown prefix stays, and no prefix means no namespace.
	}
	translate(&name, true)
	// Like encoding/xml, a tag without attributes has an empty, non-nil
	// Attr (make does not allocate for zero elements).
	out := xml.StartElement{Name: name, Attr: make([]xml.Attr, len(attrs))}
	copy(out.Attr, attrs)
	for i := range out.Attr {
		translate(&out.Attr[i].Name, false)
	}
	return out, true
}

// scanName reads an ASCII XML name at s[p:], split at its colon if it has
// exactly one inside it. ok is false for anything else.
func scanName(s string, p int) (n xml.Name, next int, ok bool) {
	start, colon := p, -1
	for p < len(s) {
		c := s[p]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case c >= '0' && c <= '9', c == '-', c == '.':
			if p == start {
				return xml.Name{}, p, false
			}
		case c == ':':
			if colon >= 0 || p == start {
				return xml.Name{}, p, false
			}
			colon = p
		default:
			goto done
		}
		p++
	}
done:
	if p == start || colon == p-1 {
		return xml.Name{}, p, false
	}
	if colon < 0 {
		return xml.Name{Local: s[start:p]}, p, true
	}
	return xml.Name{Space: s[start:colon], Local: s[colon+1 : p]}, p, true
}

// TagEnd returns the index just past the '>' that ends the tag data starts
// with (the first '>' outside a quoted attribute value), and whether the
// tag closes itself ("/>"); -1 when data holds no end of tag. data must
// start with '<'.
func TagEnd(data []byte) (end int, selfClosing bool) {
	quote := byte(0)
	for i := 1; i < len(data); i++ {
		switch c := data[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '>':
			return i + 1, data[i-1] == '/'
		}
	}
	return -1, false
}
