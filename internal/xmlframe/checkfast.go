package xmlframe

import "bytes"

// checkFast reports whether elem (trimmed, not empty, within the size bound)
// is certainly one well-formed element of at most maxDepth levels, for the
// common case: ASCII only, names of letters, digits, '_', '-' and '.', one
// optional prefix, quoted attributes with no space around '=', the five
// predefined entities, no comments, CDATA, processing instructions, DOCTYPE
// or character references. It never accepts what the full check rejects;
// whenever it is not sure it returns false and Check decodes elem with
// encoding/xml, which also gives the error. It allocates nothing for
// elements nested up to 16 deep with up to 16 attributes (a BOSH session
// creation response has 14) and 8 prefix declarations in scope.
func checkFast(elem []byte, maxDepth int) bool {
	type span struct{ a, b int } // elem[a:b]
	type decl struct {
		prefix span
		depth  int
	}
	var (
		stackBuf [16]span
		stack    = stackBuf[:0] // raw names of the open elements
		declBuf  [8]decl
		decls    = declBuf[:0]
		attrBuf  [16]span
		n        = len(elem)
		i        = 0
	)
	name := func(s span) []byte { return elem[s.a:s.b] }
	// qname scans a name at i: an NCName, optionally "prefix:local".
	qname := func() (full, prefix span, ok bool) {
		start := i
		colon := -1
		if i >= n || !isNameStart(elem[i]) {
			return full, prefix, false
		}
		for i < n {
			c := elem[i]
			switch {
			case isNameByteFast(c):
				i++
				continue
			case c == ':' && colon < 0 && i+1 < n && isNameStart(elem[i+1]):
				colon = i
				i++
				continue
			}
			break
		}
		full = span{start, i}
		if colon >= 0 {
			prefix = span{start, colon}
		}
		return full, prefix, true
	}
	declared := func(p span, element bool) bool {
		if p.a == p.b {
			return true
		}
		switch string(name(p)) { // no allocation: compared, not kept
		case "xml":
			return true
		case "xmlns":
			return !element
		}
		for _, d := range decls {
			if bytes.Equal(name(d.prefix), name(p)) {
				return true
			}
		}
		return false
	}
	// text checks character data up to the next '<', or up to the closing
	// quote q of an attribute value (q 0: character data), and reports
	// whether it is plain.
	text := func(q byte) bool {
		for i < n {
			c := elem[i]
			switch {
			case q != 0 && c == q:
				return true
			case c == '<':
				return q == 0
			case c == '&':
				if !predefinedEntity(elem[i:]) {
					return false
				}
				i = i + bytes.IndexByte(elem[i:], ';') + 1
				continue
			case c == ']' && q == 0 && bytes.HasPrefix(elem[i:], []byte("]]>")):
				return false
			case c >= 0x80, c < 0x20 && c != '\t' && c != '\n' && c != '\r':
				return false
			}
			i++
		}
		return q == 0
	}

	if n == 0 || elem[0] != '<' {
		return false
	}
	for i < n {
		if elem[i] != '<' {
			if len(stack) == 0 || !text(0) {
				return false
			}
			continue
		}
		i++
		if i >= n {
			return false
		}
		switch elem[i] {
		case '!', '?':
			return false
		case '/':
			i++
			full, _, ok := qname()
			if !ok || len(stack) == 0 || !bytes.Equal(name(full), name(stack[len(stack)-1])) {
				return false
			}
			for i < n && isSpace(elem[i]) {
				i++
			}
			if i >= n || elem[i] != '>' {
				return false
			}
			i++
			stack = stack[:len(stack)-1]
			for len(decls) > 0 && decls[len(decls)-1].depth > len(stack) {
				decls = decls[:len(decls)-1]
			}
			if len(stack) == 0 {
				return onlySpace(elem[i:])
			}
			continue
		}
		// A start tag.
		if len(stack) == maxDepth {
			return false
		}
		full, prefix, ok := qname()
		if !ok {
			return false
		}
		stack = append(stack, full)
		depth := len(stack)
		attrs := attrBuf[:0]
		attrPrefixes := [len(attrBuf)]span{}
		selfClosing := false
		for {
			spaced := false
			for i < n && isSpace(elem[i]) {
				i++
				spaced = true
			}
			if i >= n {
				return false
			}
			if elem[i] == '>' {
				i++
				break
			}
			if elem[i] == '/' {
				if i+1 >= n || elem[i+1] != '>' {
					return false
				}
				i += 2
				selfClosing = true
				break
			}
			if !spaced || len(attrs) == len(attrBuf) {
				return false
			}
			af, ap, ok := qname()
			if !ok || i+1 >= n || elem[i] != '=' || (elem[i+1] != '\'' && elem[i+1] != '"') {
				return false
			}
			for _, b := range attrs {
				if bytes.Equal(name(b), name(af)) {
					return false
				}
			}
			q := elem[i+1]
			i += 2
			vstart := i
			if !text(q) || i >= n {
				return false
			}
			value := span{vstart, i}
			i++ // the closing quote
			if string(name(ap)) == "xmlns" {
				local := span{ap.b + 1, af.b}
				if value.a == value.b || string(name(local)) == "xml" || string(name(local)) == "xmlns" || len(decls) == len(declBuf) {
					return false
				}
				decls = append(decls, decl{prefix: local, depth: depth})
			}
			attrPrefixes[len(attrs)] = ap
			attrs = append(attrs, af)
		}
		if !declared(prefix, true) {
			return false
		}
		for k := range attrs {
			if !declared(attrPrefixes[k], false) {
				return false
			}
		}
		if selfClosing {
			stack = stack[:len(stack)-1]
			for len(decls) > 0 && decls[len(decls)-1].depth > len(stack) {
				decls = decls[:len(decls)-1]
			}
			if len(stack) == 0 {
				return onlySpace(elem[i:])
			}
		}
	}
	return false
}

// isNameStart reports whether c may begin a name on the fast path.
func isNameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// isNameByteFast reports whether c may continue a name on the fast path.
func isNameByteFast(c byte) bool {
	return isNameStart(c) || c >= '0' && c <= '9' || c == '-' || c == '.'
}

// predefinedEntity reports whether b starts with one of the five entities
// XML predefines.
func predefinedEntity(b []byte) bool {
	for _, e := range [...]string{"&lt;", "&gt;", "&amp;", "&quot;", "&apos;"} {
		if bytes.HasPrefix(b, []byte(e)) {
			return true
		}
	}
	return false
}

// onlySpace reports whether b is XML whitespace only.
func onlySpace(b []byte) bool {
	for _, c := range b {
		if !isSpace(c) {
			return false
		}
	}
	return true
}
