package xmlframe

import "bytes"

// EnsureNamespace returns elem unchanged if its root element declares a
// default namespace (an xmlns attribute) or has a prefix; otherwise it
// returns a copy with xmlns='ns' inserted into the root start tag, right
// after the element name. Leading whitespace before the root is allowed. elem
// is returned unchanged when no root start tag can be found in it (Check
// reports such input).
func EnsureNamespace(elem []byte, ns string) []byte {
	i := 0
	for i < len(elem) && isSpace(elem[i]) {
		i++
	}
	if i >= len(elem) || elem[i] != '<' {
		return elem
	}
	i++
	nameStart := i
	for i < len(elem) && isNameByte(elem[i]) {
		i++
	}
	nameEnd := i
	if nameEnd == nameStart || bytes.IndexByte(elem[nameStart:nameEnd], ':') >= 0 {
		return elem
	}
	if hasDefaultNS(elem[nameEnd:]) {
		return elem
	}
	out := make([]byte, 0, len(elem)+len(ns)+10)
	out = append(out, elem[:nameEnd]...)
	out = appendAttr(out, "", "xmlns", ns)
	return append(out, elem[nameEnd:]...)
}

// hasDefaultNS reports whether the rest of a start tag, from just after the
// element name, holds an xmlns attribute. It stops at the end of the tag.
func hasDefaultNS(tag []byte) bool {
	i := 0
	for i < len(tag) {
		c := tag[i]
		switch {
		case isSpace(c):
			i++
		case c == '>' || c == '/':
			return false
		case isNameByte(c):
			start := i
			for i < len(tag) && isNameByte(tag[i]) {
				i++
			}
			name := tag[start:i]
			for i < len(tag) && isSpace(tag[i]) {
				i++
			}
			if i >= len(tag) || tag[i] != '=' {
				return false // malformed; leave it to Check
			}
			if string(name) == "xmlns" {
				return true
			}
			i++
			for i < len(tag) && isSpace(tag[i]) {
				i++
			}
			if i >= len(tag) || tag[i] != '"' && tag[i] != '\'' {
				return false
			}
			end := bytes.IndexByte(tag[i+1:], tag[i])
			if end < 0 {
				return false
			}
			i += end + 2
		default:
			return false
		}
	}
	return false
}
