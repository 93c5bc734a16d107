package xmppconn

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"

	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/internal/xmlframe"
)

// Namespaces of the stream-level elements the session layer reads.
const (
	nsStream  = "http://etherx.jabber.org/streams"
	nsSASL    = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsBind    = "urn:ietf:params:xml:ns:xmpp-bind"
	nsSession = "urn:ietf:params:xml:ns:xmpp-session"
	nsSM      = "urn:xmpp:sm:3"
	nsPing    = "urn:xmpp:ping"
)

// errNoElement is returned by rootOf for input that holds no element.
var errNoElement = errors.New("xmppconn: no element in server input")

// root is the start tag of a top-level element read from the server.
type root struct {
	xml.StartElement
}

// attr returns the value of the unqualified attribute name.
func (r root) attr(name string) string {
	for _, a := range r.Attr {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// is reports whether the element is space:local.
func (r root) is(space, local string) bool {
	return r.Name.Space == space && r.Name.Local == local
}

// isStanza reports whether the element is a jabber:client stanza.
func (r root) isStanza() bool {
	return r.Name.Space == stanza.NSClient &&
		(r.Name.Local == "message" || r.Name.Local == "presence" || r.Name.Local == "iq")
}

// rootOf decodes the start tag of a serialized element: with
// xmlframe.StartTag (two allocations) when it can, else with encoding/xml.
func rootOf(elem []byte) (root, error) {
	if se, ok := xmlframe.StartTag(elem); ok {
		return root{se}, nil
	}
	d := xml.NewDecoder(bytes.NewReader(elem))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return root{}, errNoElement
		}
		if err != nil {
			return root{}, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			return root{se}, nil
		}
	}
}
