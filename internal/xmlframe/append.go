package xmlframe

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/xmppconn/xmppconn/transport"
)

// xmlNS is the namespace bound to the reserved xml prefix.
const xmlNS = "http://www.w3.org/XML/1998/namespace"

// streamsNS is the namespace of stream-level elements (RFC 6120), written
// with its conventional prefix "stream".
const streamsNS = "http://etherx.jabber.org/streams"

// AppendElement appends to dst one element as self-contained XML: start has
// already been read, and the rest of the element, up to and including its
// end, is read from r. The tokens are decoded ones (as xml.Decoder.Token
// returns them), whose names carry namespace URIs, not prefixes.
//
// Every namespace is declared where it is first needed: the element's own
// Space becomes xmlns='…' (when it differs from the parent's), except the
// stream namespace, written as stream:name with xmlns:stream='…' declared as
// servers do over WebSocket (<stream:features/>, <stream:error/>); an attribute
// in another namespace gets a generated prefix (ns1, ns2, …) declared on its
// element, and the xml namespace is written as xml:lang without declaration.
// The xmlns attributes of the tokens are dropped and regenerated. An element
// whose Space is empty is put in defaultNS. Text and attribute values are
// escaped; comments are dropped; processing instructions and directives are
// errors (XMPP forbids them). An element without content is written
// self-closing.
//
// On error dst is returned with whatever was appended so far.
//
// Because every element declares what it uses, the output can be far larger
// than the input it was read from: a namespace declared once on a wrapper
// (a BOSH <body/>) is declared again on each element that uses it. On
// server input use AppendElementLimit.
func AppendElement(dst []byte, start xml.StartElement, r xml.TokenReader, defaultNS string) ([]byte, error) {
	return AppendElementLimit(dst, start, r, defaultNS, math.MaxInt)
}

// AppendElementLimit is AppendElement with a bound on the result: when dst
// would grow beyond max bytes (its length, including what it held before
// the call, so that one bound can cover several elements appended in turn),
// it stops with a *transport.LimitError (What "element size", Limit max), the
// element unfinished, and returns dst as it is. dst may exceed max by one
// attribute or token at most when that happens.
func AppendElementLimit(dst []byte, start xml.StartElement, r xml.TokenReader, defaultNS string, max int) ([]byte, error) {
	type frame struct {
		local    string // the local name, to match the end tag
		qname    string // the name as written, with its prefix if any
		ns       string // the default namespace in effect inside
		prefixes int    // len(bound) when the element was opened
	}
	var (
		stack []frame
		bound bindings // prefixes in scope
		next  = 1      // the number of the next generated prefix
		open  bool     // a start tag is written up to its attributes, not closed
	)

	// writeStart writes t up to its attributes; false means dst grew
	// beyond max.
	writeStart := func(t xml.StartElement) bool {
		ns := t.Name.Space
		if ns == "" {
			ns = defaultNS
		}
		parentNS := ""
		if len(stack) > 0 {
			parentNS = stack[len(stack)-1].ns
		}
		f := frame{local: t.Name.Local, qname: t.Name.Local, ns: ns, prefixes: bound.len()}
		declare := ns != parentNS
		if ns == streamsNS {
			// Stream-level elements keep their conventional prefix, as
			// servers write them over WebSocket.
			f.qname, f.ns = "stream:"+t.Name.Local, parentNS
			_, declare = bound.lookup(streamsNS)
			declare = !declare
			if declare {
				bound.push("stream", streamsNS)
			}
		}
		stack = append(stack, f)
		dst = append(dst, '<')
		dst = append(dst, f.qname...)
		if declare {
			if ns == streamsNS {
				dst = appendAttr(dst, "xmlns", "stream", ns)
			} else {
				dst = appendAttr(dst, "", "xmlns", ns)
			}
		}
		for _, a := range t.Attr {
			switch {
			case a.Name.Space == "xmlns", a.Name.Space == "" && a.Name.Local == "xmlns":
				continue // declarations are regenerated
			case a.Name.Space == "":
				dst = appendAttr(dst, "", a.Name.Local, a.Value)
			case a.Name.Space == xmlNS || a.Name.Space == "xml":
				dst = appendAttr(dst, "xml", a.Name.Local, a.Value)
			default:
				prefix, ok := bound.lookup(a.Name.Space)
				if !ok {
					prefix = "ns" + strconv.Itoa(next)
					next++
					bound.push(prefix, a.Name.Space)
					dst = appendAttr(dst, "xmlns", prefix, a.Name.Space)
				}
				dst = appendAttr(dst, prefix, a.Name.Local, a.Value)
			}
			if len(dst) > max {
				return false
			}
		}
		open = true
		return len(dst) <= max
	}
	tooLarge := func() error {
		return &transport.LimitError{What: "element size", Limit: max}
	}
	closeStart := func() {
		if open {
			dst = append(dst, '>')
			open = false
		}
	}

	if !writeStart(start) {
		return dst, tooLarge()
	}
	for len(stack) > 0 {
		tok, err := r.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return dst, &SyntaxError{Op: "append", Offset: -1, Msg: "reading element " + start.Name.Local, Err: err}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			closeStart()
			if !writeStart(t) {
				return dst, tooLarge()
			}
		case xml.EndElement:
			top := stack[len(stack)-1]
			if t.Name.Local != top.local {
				return dst, &SyntaxError{Op: "append", Offset: -1, Msg: "end tag " + t.Name.Local + " does not match " + top.qname}
			}
			if open {
				dst = append(dst, '/', '>')
				open = false
			} else {
				dst = append(dst, '<', '/')
				dst = append(dst, top.qname...)
				dst = append(dst, '>')
			}
			bound.truncate(top.prefixes)
			stack = stack[:len(stack)-1]
		case xml.CharData:
			closeStart()
			dst = appendEscaped(dst, string(t), false)
		case xml.Comment:
		case xml.ProcInst:
			return dst, &SyntaxError{Op: "append", Offset: -1, Msg: "processing instruction not allowed"}
		case xml.Directive:
			return dst, &SyntaxError{Op: "append", Offset: -1, Msg: "DOCTYPE or directive not allowed"}
		}
		if len(dst) > max {
			return dst, tooLarge()
		}
	}
	return dst, nil
}

// binding is a prefix declared by AppendElement and its namespace.
type binding struct {
	prefix, ns string
}

// bindings holds the prefixes AppendElement declared on the open elements. A
// namespace is bound at most once at a time (a prefix is generated only for a
// namespace not bound yet), so it maps each namespace to one prefix.
type bindings struct {
	stack []binding         // outermost first
	index map[string]string // namespace to prefix for stack; nil while the stack is small
}

func (b *bindings) len() int { return len(b.stack) }

func (b *bindings) push(prefix, ns string) {
	b.stack = append(b.stack, binding{prefix: prefix, ns: ns})
	switch {
	case b.index != nil:
		b.index[ns] = prefix
	case len(b.stack) > smallSet:
		b.index = make(map[string]string, 2*len(b.stack))
		for _, x := range b.stack {
			b.index[x.ns] = x.prefix
		}
	}
}

// truncate drops the bindings after the first n.
func (b *bindings) truncate(n int) {
	if b.index != nil {
		for _, x := range b.stack[n:] {
			delete(b.index, x.ns)
		}
	}
	b.stack = b.stack[:n]
}

// lookup returns the prefix bound to ns.
func (b *bindings) lookup(ns string) (string, bool) {
	if b.index != nil {
		p, ok := b.index[ns]
		return p, ok
	}
	for _, x := range b.stack {
		if x.ns == ns {
			return x.prefix, true
		}
	}
	return "", false
}

// appendAttr appends " prefix:local='value'" with value escaped.
func appendAttr(dst []byte, prefix, local, value string) []byte {
	dst = append(dst, ' ')
	if prefix != "" {
		dst = append(dst, prefix...)
		dst = append(dst, ':')
	}
	dst = append(dst, local...)
	dst = append(dst, '=', '\'')
	dst = appendEscaped(dst, value, true)
	return append(dst, '\'')
}

// appendEscaped appends s escaped as text, or as an attribute value in single
// quotes when attr is true. Characters XML cannot hold become U+FFFD.
func appendEscaped(dst []byte, s string, attr bool) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '&':
				dst = append(dst, "&amp;"...)
			case c == '<':
				dst = append(dst, "&lt;"...)
			case c == '>':
				dst = append(dst, "&gt;"...)
			case c == '\r':
				dst = append(dst, "&#xD;"...)
			case attr && c == '\'':
				dst = append(dst, "&apos;"...)
			case attr && c == '"':
				dst = append(dst, "&quot;"...)
			case attr && c == '\n':
				dst = append(dst, "&#xA;"...)
			case attr && c == '\t':
				dst = append(dst, "&#x9;"...)
			case c < 0x20 && c != '\n' && c != '\t':
				dst = append(dst, "\uFFFD"...)
			default:
				dst = append(dst, c)
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || !isXMLChar(r) {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return dst
}

// isXMLChar reports whether r (at or above U+0080) is allowed in XML 1.0.
func isXMLChar(r rune) bool {
	return r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
