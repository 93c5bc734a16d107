package xmlframe

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"github.com/xmppconn/xmppconn/transport"
)

// Check verifies that elem is exactly one well-formed element (leading and
// trailing whitespace allowed) within l (zero fields mean the defaults):
// at most l.MaxElementSize bytes without that whitespace, and at most
// l.MaxDepth levels of nesting, the root counting as one.
//
// Well-formed here means what XMPP allows (RFC 6120 §11): XML syntax as
// encoding/xml checks it, end tags that match, every prefix declared, no
// duplicate attributes, and no comments, processing instructions or DOCTYPE.
// A broken bound gives a *transport.LimitError, anything else a
// *SyntaxError.
//
// Usual stanzas and stream elements are checked by a scanner that
// allocates nothing (about ten times faster than decoding them); anything
// it cannot vouch for, and every error, goes through encoding/xml. Both
// take time linear in len(elem), however many attributes or prefix
// declarations a server puts on one element.
func Check(elem []byte, l transport.Limits) error {
	_, err := check(elem, l, false)
	return err
}

// check is Check, and CheckLenient when lenient is true; tolerated reports
// that the root is a stream:error whose stream prefix is undeclared.
func check(elem []byte, l transport.Limits, lenient bool) (tolerated bool, err error) {
	l = l.WithDefaults()
	elem = trimSpace(elem)
	if len(elem) > l.MaxElementSize {
		return false, &transport.LimitError{What: "element size", Limit: l.MaxElementSize}
	}
	if len(elem) == 0 {
		return false, &SyntaxError{Op: "check", Offset: -1, Msg: "no element"}
	}
	if checkFast(elem, l.MaxDepth) {
		return false, nil
	}
	return checkFull(elem, l, lenient)
}

// checkFull is check's full path for a trimmed, non-empty elem within the
// size bound: encoding/xml's tokenizer and the rules XMPP adds. With lenient,
// a root stream:error may leave its prefix undeclared (tolerated is then
// true); nothing else may.
func checkFull(elem []byte, l transport.Limits, lenient bool) (tolerated bool, err error) {
	d := xml.NewDecoder(bytes.NewReader(elem))
	var (
		stack  []xml.Name   // raw names of the open elements
		scopes prefixScopes // declared prefixes
		done   bool         // the root element ended
	)
	fail := func(msg string) (bool, error) {
		return false, &SyntaxError{Op: "check", Offset: d.InputOffset(), Msg: msg}
	}
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			if !done {
				return fail("unexpected end of element")
			}
			return tolerated, nil
		}
		if err != nil {
			return false, &SyntaxError{Op: "check", Offset: d.InputOffset(), Msg: "malformed element", Err: err}
		}
		if done {
			if cd, ok := tok.(xml.CharData); ok && len(trimSpace(cd)) == 0 {
				continue
			}
			return fail("data after the element")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == l.MaxDepth {
				return false, &transport.LimitError{What: "nesting depth", Limit: l.MaxDepth}
			}
			stack = append(stack, t.Name)
			if !validQName(t.Name) {
				return fail("invalid name " + rawName(t.Name))
			}
			for _, a := range t.Attr {
				if !validQName(a.Name) {
					return fail("invalid attribute name " + rawName(a.Name))
				}
				if a.Name.Space == "xmlns" && a.Value == "" {
					return fail("empty namespace for prefix " + a.Name.Local)
				}
				if a.Name.Space == "xmlns" {
					scopes.push(a.Name.Local, len(stack))
				}
			}
			if dup, ok := duplicateAttr(t.Attr); ok {
				return fail("duplicate attribute " + rawName(dup))
			}
			if !scopes.declared(t.Name.Space, true) {
				if !lenient || len(stack) != 1 || t.Name != undeclaredStreamError {
					return fail("undeclared prefix " + t.Name.Space)
				}
				tolerated = true
			}
			for _, a := range t.Attr {
				if !scopes.declared(a.Name.Space, false) {
					return fail("undeclared prefix " + a.Name.Space)
				}
			}
		case xml.EndElement:
			if len(stack) == 0 {
				return fail("end tag without start tag")
			}
			if top := stack[len(stack)-1]; top != t.Name {
				return fail("end tag " + rawName(t.Name) + " does not match " + rawName(top))
			}
			stack = stack[:len(stack)-1]
			scopes.leave(len(stack))
			done = len(stack) == 0
		case xml.CharData:
			if len(stack) == 0 {
				return fail("text outside the element")
			}
		case xml.Comment:
			return fail("comment not allowed")
		case xml.ProcInst:
			return fail("processing instruction not allowed")
		case xml.Directive:
			return fail("DOCTYPE or directive not allowed")
		}
	}
}

// validQName reports whether the raw name n has the form of a QName of
// Namespaces in XML: an optional prefix and a local part, each an NCName.
// encoding/xml checks the characters of the whole name but not where the
// colon is, nor what follows it.
func validQName(n xml.Name) bool {
	return (n.Space == "" || validNCName(n.Space)) && validNCName(n.Local)
}

func validNCName(s string) bool {
	if s == "" || strings.IndexByte(s, ':') >= 0 {
		return false
	}
	c := s[0]
	return !(c >= '0' && c <= '9' || c == '-' || c == '.')
}

func rawName(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// trimSpace removes leading and trailing XML whitespace.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}
