package xmppconn

import (
	"bytes"
	"encoding/xml"
	"errors"
	"sync"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/stanza"
)

// errNotStart is returned by Send when the token reader does not begin with
// a start element.
var errNotStart = errors.New("xmppconn: send: the first token is not a start element")

// maxPooledEncoder is the largest buffer an encoder may keep in the pool:
// one huge stanza should not pin its buffer for the rest of the process.
const maxPooledEncoder = 64 << 10

// stanzaEncoder writes the tokens of stanzas as XML into buf, normalised as
// mellium's session encoder does it: a top-level stanza without a namespace
// is put in jabber:client, an empty id or from is dropped, a stanza without
// an id gets a random one, and no element keeps an xmlns attribute next to a
// namespaced name (which would duplicate the declaration).
//
// Encoders are pooled rather than kept per session: each holds
// encoding/xml's 4 KiB buffer, which an idle session has no use for.
type stanzaEncoder struct {
	buf   bytes.Buffer
	enc   *xml.Encoder
	depth int
}

var encoderPool = sync.Pool{New: func() any {
	e := new(stanzaEncoder)
	e.enc = xml.NewEncoder(&e.buf)
	return e
}}

func getEncoder() *stanzaEncoder { return encoderPool.Get().(*stanzaEncoder) }

// release returns e to the pool when it is clean; an encoder that failed
// half way through an element is dropped with its state.
func (e *stanzaEncoder) release(ok bool) {
	if !ok || e.depth != 0 || e.buf.Cap() > maxPooledEncoder {
		return
	}
	e.buf.Reset()
	encoderPool.Put(e)
}

// EncodeToken implements xmlstream.TokenWriter.
func (e *stanzaEncoder) EncodeToken(t xml.Token) error {
	switch tok := t.(type) {
	case xml.StartElement:
		e.depth++
		if e.depth == 1 && isStanzaName(tok.Name) {
			tok = normaliseStanzaStart(tok)
		}
		tok.Attr = dropXMLNSAttr(tok)
		t = tok
	case xml.EndElement:
		if e.depth == 1 && tok.Name.Space == "" && isStanzaName(tok.Name) {
			tok.Name.Space = stanza.NSClient
			t = tok
		}
		e.depth--
	}
	return e.enc.EncodeToken(t)
}

// Flush implements xmlstream.Flusher: the encoded bytes reach buf.
func (e *stanzaEncoder) Flush() error { return e.enc.Flush() }

// isStanzaName reports whether name is a message, presence or iq in the
// client or server namespace, or in none.
func isStanzaName(name xml.Name) bool {
	return (name.Local == "iq" || name.Local == "message" || name.Local == "presence") &&
		(name.Space == "" || name.Space == stanza.NSClient || name.Space == stanza.NSServer)
}

// normaliseStanzaStart gives a stanza's start tag its namespace and an id,
// and drops empty id and from attributes (RFC 6120 §8.1.2, §8.1.3).
func normaliseStanzaStart(tok xml.StartElement) xml.StartElement {
	if tok.Name.Space == "" {
		tok.Name.Space = stanza.NSClient
	}
	hasID := false
	attrs := make([]xml.Attr, 0, len(tok.Attr)+1)
	for _, a := range tok.Attr {
		if a.Name.Space == "" && (a.Name.Local == "id" || a.Name.Local == "from") {
			if a.Value == "" {
				continue
			}
			if a.Name.Local == "id" {
				hasID = true
			}
		}
		attrs = append(attrs, a)
	}
	if !hasID {
		attrs = append(attrs, xml.Attr{Name: xml.Name{Local: "id"}, Value: newID()})
	}
	tok.Attr = attrs
	return tok
}

// dropXMLNSAttr removes a default namespace declaration from an element
// whose name already carries its namespace: encoding/xml would write both.
func dropXMLNSAttr(tok xml.StartElement) []xml.Attr {
	if tok.Name.Space == "" {
		return tok.Attr
	}
	for i, a := range tok.Attr {
		if a.Name.Space == "" && a.Name.Local == "xmlns" {
			attrs := append(make([]xml.Attr, 0, len(tok.Attr)-1), tok.Attr[:i]...)
			for _, b := range tok.Attr[i+1:] {
				if !(b.Name.Space == "" && b.Name.Local == "xmlns") {
					attrs = append(attrs, b)
				}
			}
			return attrs
		}
	}
	return tok.Attr
}

// encodeStanza encodes one element: the first element of r when start is
// nil, else start with all of r as its payload. The result is one complete
// element, as a transport frames it.
func encodeStanza(r xml.TokenReader, start *xml.StartElement) ([]byte, error) {
	if start == nil {
		tok, err := r.Token()
		if err != nil {
			return nil, err
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			return nil, errNotStart
		}
		start = &el
		r = xmlstream.Inner(r)
	}
	e := getEncoder()
	err := e.EncodeToken(*start)
	if err == nil {
		_, err = xmlstream.Copy(e, r)
	}
	if err == nil {
		err = e.EncodeToken(start.End())
	}
	if err == nil {
		err = e.Flush()
	}
	if err != nil {
		e.release(false)
		return nil, err
	}
	elem := bytes.Clone(e.buf.Bytes())
	e.release(true)
	return elem, nil
}
