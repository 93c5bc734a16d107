package websocket

import (
	"bytes"
	"encoding/xml"
	"strings"

	"github.com/xmppconn/xmppconn/internal/xmlframe"
	"github.com/xmppconn/xmppconn/transport"
)

// NS is the namespace of the RFC 7395 framing elements <open/> and <close/>.
const NS = "urn:ietf:params:xml:ns:xmpp-framing"

// xmlNS is the namespace of the xml prefix (xml:lang).
const xmlNS = "http://www.w3.org/XML/1998/namespace"

// closeElement is what the client sends to close the stream.
var closeElement = []byte("<close xmlns='" + NS + "'/>")

// openElement returns the <open/> the client sends to open or restart the
// stream to domain (RFC 7395 §3.4 and §3.5), with from when it is not empty.
func openElement(domain, from string) []byte {
	var b strings.Builder
	b.WriteString("<open xmlns='" + NS + "' to='")
	_ = xml.EscapeText(&b, []byte(domain)) // a strings.Builder does not fail
	if from != "" {
		b.WriteString("' from='")
		_ = xml.EscapeText(&b, []byte(from))
	}
	b.WriteString("' version='1.0'/>")
	return []byte(b.String())
}

// kind classifies a message from the server.
type kind int

const (
	kindElement kind = iota // anything but a framing element
	kindOpen                // <open xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>
	kindClose               // <close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>
)

// frame is one message read from the server, already checked.
type frame struct {
	kind        kind
	elem        []byte           // the element, namespace-complete
	header      transport.Header // for kindOpen
	seeOtherURI string           // for kindClose, if any
}

// classify looks at the root of elem, which passed xmlframe.Check.
func classify(elem []byte) frame {
	f := frame{elem: elem}
	if !bytes.Contains(elem, []byte(NS)) {
		return f
	}
	start, ok := xmlframe.StartTag(elem)
	if !ok {
		tok, err := xml.NewDecoder(bytes.NewReader(elem)).Token()
		start, ok = tok.(xml.StartElement)
		ok = ok && err == nil
	}
	if !ok || start.Name.Space != NS {
		return f
	}
	switch start.Name.Local {
	case "open":
		f.kind = kindOpen
		for _, a := range start.Attr {
			switch {
			case a.Name.Space == "" && a.Name.Local == "id":
				f.header.ID = a.Value
			case a.Name.Space == "" && a.Name.Local == "from":
				f.header.From = a.Value
			case a.Name.Space == "" && a.Name.Local == "to":
				f.header.To = a.Value
			case a.Name.Space == "" && a.Name.Local == "version":
				f.header.Version = a.Value
			case a.Name.Space == xmlNS && a.Name.Local == "lang":
				f.header.Lang = a.Value
			}
		}
	case "close":
		f.kind = kindClose
		for _, a := range start.Attr {
			if a.Name.Space == "" && a.Name.Local == "see-other-uri" {
				f.seeOtherURI = a.Value
			}
		}
	}
	return f
}

// rootName returns the qualified name of the root element of elem, for error
// messages, or "?" when there is none.
func rootName(elem []byte) string {
	elem = bytes.TrimLeft(elem, " \t\r\n")
	if len(elem) < 2 || elem[0] != '<' {
		return "?"
	}
	end := bytes.IndexAny(elem[1:], " \t\r\n/>")
	if end <= 0 {
		return "?"
	}
	return string(elem[1 : 1+end])
}
