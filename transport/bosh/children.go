package bosh

import (
	"bytes"
	"encoding/xml"
	"strings"

	"github.com/xmppconn/xmppconn/internal/xmlframe"
)

// parseUsualBody is parseBody's fast path, for the bodies a session is
// made of: a <body xmlns='http://jabber.org/protocol/httpbind'/> that is
// not a terminate. data must have passed xmlframe.Check. Each child is cut
// from data as it is, and made self-contained by declaring on its root
// what it inherits from the <body/>: the default namespace, jabber:client
// when the child names none (XEP-0206 §3), and the body's prefixes it
// uses. That is the element parseBody's decoding and serializing gives
// (FuzzUsualBody holds it to that), in about a quarter of the time and a
// twelfth of the allocations (BenchmarkBodyParse): a login is a few
// bodies, and decoding them took a tenth of the CPU of a BOSH
// reconnection.
//
// It reports false, and parseBody decodes the body, whenever the body
// holds anything this path does not handle exactly as decoding does: a
// prefixed <body/>, or another default namespace on it; a prefix bound to
// the httpbind namespace, or a child that names it; an empty xmlns (which
// undeclares the default namespace); a <uri/>; a child's start tag
// xmlframe.StartTag cannot read; text between children; children that
// take more than a quarter beyond the body with their declarations. The errors are decoding's to report: a body this path
// refuses, decoding reads, and refuses with the right error.
func parseUsualBody(data []byte, budget int) (*body, bool) {
	start, ok := xmlframe.StartTag(data)
	if !ok || start.Name.Space != nsHTTPBind || start.Name.Local != "body" || !bytes.HasPrefix(data, []byte("<body")) {
		return nil, false
	}
	b, err := bodyAttrs(start.Attr)
	if err != nil || b.typ == "terminate" {
		return nil, false
	}
	var decls []nsDecl // the prefixes the body declares
	for _, a := range start.Attr {
		switch {
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			if a.Value != nsHTTPBind {
				return nil, false
			}
		case a.Name.Space == "xmlns":
			if a.Value == nsHTTPBind { // its elements go to jabber:client
				return nil, false
			}
			decls = append(decls, nsDecl{prefix: a.Name.Local, ns: a.Value})
		}
	}
	end, selfClosing := xmlframe.TagEnd(data)
	if end < 0 {
		return nil, false
	}
	if selfClosing {
		return b, true
	}

	// Each child in an allocation of its own: one that shared a buffer
	// with its siblings would keep them all in memory for as long as the
	// application keeps it. Together they may take a quarter more than
	// the body, room for a declaration or two per child; a body that needs
	// more (many small children, each given a long namespace) is decoded,
	// which bounds it by the budget.
	room := min(len(data)+len(data)/4+256, budget)
	var sp xmlframe.Splitter
	err = sp.Write(data[end:], func(elem []byte) error {
		child, name, ok := appendChild(make([]byte, 0, len(elem)+declRoom(decls)), elem, decls)
		if room -= len(child); !ok || room < 0 {
			return errSlowPath
		}
		b.children = append(b.children, child)
		if name.Space == nsStreams && name.Local == "error" {
			b.streamError = child
		}
		return nil
	})
	if err != nil || !sp.Ended() {
		return nil, false
	}
	return b, true
}

// errSlowPath stops the Splitter of parseUsualBody at a child it does not
// handle.
var errSlowPath = &MalformedError{Reason: "not a usual body"}

// nsDecl is a prefix the <body/> declares.
type nsDecl struct{ prefix, ns string }

// appendChild appends elem, a child of the <body/>, to dst with the
// declarations it inherits from the body, and returns the name of its
// root; false when parseBody must decode it instead.
func appendChild(dst, elem []byte, decls []nsDecl) (_ []byte, name xml.Name, ok bool) {
	nameEnd := 1
	for nameEnd < len(elem) && !isTagSpace(elem[nameEnd]) && elem[nameEnd] != '/' && elem[nameEnd] != '>' {
		nameEnd++
	}
	prefix, local, prefixed := strings.Cut(string(elem[1:nameEnd]), ":")
	if !prefixed {
		prefix, local = "", prefix
	}
	if prefix == "xml" || prefix == "xmlns" || !prefixed && local == "uri" ||
		bytes.Contains(elem, []byte(nsHTTPBind)) {
		return dst, name, false
	}
	inherits, ok := inheritsDefault(elem)
	if !ok {
		return dst, name, false
	}
	start, ok := xmlframe.StartTag(elem)
	if !ok {
		return dst, name, false
	}
	declared := func(prefix string) (string, bool) {
		for _, a := range start.Attr {
			if a.Name.Space == "xmlns" && a.Name.Local == prefix || prefix == "" && a.Name.Space == "" && a.Name.Local == "xmlns" {
				return a.Value, true
			}
		}
		return "", false
	}
	dst = append(dst, elem[:nameEnd]...)
	if inherits {
		// What names no namespace inherits the body's, which XEP-0206
		// puts in jabber:client.
		dst = appendDecl(dst, "xmlns", nsClient)
	}
	name.Local = local
	name.Space, ok = declared(prefix)
	if !ok && prefix == "" {
		name.Space = nsClient
	}
	for _, d := range decls {
		if _, own := declared(d.prefix); own {
			continue
		}
		if d.prefix == prefix {
			name.Space = d.ns
		}
		// A prefix that shows anywhere in the child may be one it uses;
		// declaring one it does not use changes nothing.
		if bytes.Contains(elem, []byte(d.prefix+":")) {
			dst = appendDecl(dst, "xmlns:"+d.prefix, d.ns)
		}
	}
	return append(dst, elem[nameEnd:]...), name, true
}

// declRoom is the most appendChild adds to a child of a body declaring
// decls: jabber:client and every prefix.
func declRoom(decls []nsDecl) int {
	n := len(" xmlns=''") + len(nsClient)
	for _, d := range decls {
		n += len(" xmlns:='") + len(d.prefix) + len(d.ns) + 1
	}
	return n
}

// appendDecl appends ` name='value'` to dst; value is a namespace name as
// xmlframe.StartTag gave it, without references, so only quotes need
// escaping.
func appendDecl(dst []byte, name, value string) []byte {
	dst = append(dst, ' ')
	dst = append(dst, name...)
	dst = append(dst, "='"...)
	dst = append(dst, strings.ReplaceAll(value, "'", "&apos;")...)
	return append(dst, '\'')
}

// inheritsDefault reports whether an element of elem, a child of the
// <body/>, names no namespace and has no default namespace declared in
// elem around it: it would inherit the body's. ok is false when elem
// holds an empty xmlns, which undeclares the default namespace: decoding
// puts what it covers in jabber:client, a raw copy would leave it in none.
// elem has passed xmlframe.Check: its tags are well formed, and it holds
// no comment or processing instruction.
func inheritsDefault(elem []byte) (inherits, ok bool) {
	var scopes []bool // per open element: a default namespace is declared
	for i := 0; i < len(elem); i++ {
		if elem[i] != '<' {
			continue
		}
		i++
		switch {
		case bytes.HasPrefix(elem[i:], []byte("![CDATA[")):
			end := bytes.Index(elem[i:], []byte("]]>"))
			if end < 0 {
				return false, false
			}
			i += end + 2
			continue
		case i < len(elem) && elem[i] == '/':
			if len(scopes) > 0 {
				scopes = scopes[:len(scopes)-1]
			}
			continue
		}
		name := i
		for i < len(elem) && !isTagSpace(elem[i]) && elem[i] != '/' && elem[i] != '>' {
			i++
		}
		prefixed := bytes.IndexByte(elem[name:i], ':') >= 0
		declares, quote := false, byte(0)
		for ; i < len(elem); i++ {
			c := elem[i]
			if quote != 0 {
				if c == quote {
					quote = 0
				}
				continue
			}
			if c == '\'' || c == '"' {
				quote = c
				continue
			}
			if c == '>' {
				break
			}
			if bytes.HasPrefix(elem[i:], []byte("xmlns")) && isTagSpace(elem[i-1]) {
				j := i + len("xmlns")
				for j < len(elem) && isTagSpace(elem[j]) {
					j++
				}
				if j < len(elem) && elem[j] == '=' {
					declares = true
					for j++; j < len(elem) && isTagSpace(elem[j]); j++ {
					}
					if j+1 < len(elem) && elem[j+1] == elem[j] {
						return false, false
					}
				}
			}
		}
		inScope := declares || len(scopes) > 0 && scopes[len(scopes)-1]
		if !prefixed && !inScope {
			inherits = true
		}
		if i < len(elem) && elem[i-1] != '/' {
			scopes = append(scopes, inScope)
		}
	}
	return inherits, true
}

func isTagSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
