package xmppconn

import (
	"encoding/xml"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/internal/xmlframe"
)

// decodeSuccess decodes a SASL2 <success/>. The usual one takes the fast
// path of xmlframe.Parse: encoding/xml's Unmarshal made it the costliest
// element of a reconnection after the network. The result is the one
// Unmarshal gives (FuzzDecodeSuccess holds the two paths to that); whatever
// the fast path does not read, and a Bind 2 <failed/>, whose stanza error
// Unmarshal decodes, go to Unmarshal.
func decodeSuccess(elem []byte) (*sasl2Success, error) {
	if succ, ok := successFromTree(elem); ok {
		return succ, nil
	}
	var succ sasl2Success
	if err := xml.Unmarshal(elem, &succ); err != nil {
		return nil, err
	}
	return &succ, nil
}

// successFromTree decodes elem as Unmarshal would into a sasl2Success,
// field by field: the last element or attribute of a name wins, an element
// that appears again fills the same struct, attributes match by local name
// whatever their namespace, text is the element's own character data.
func successFromTree(elem []byte) (*sasl2Success, bool) {
	root, ok := xmlframe.Parse(elem)
	if !ok {
		return nil, false
	}
	var s sasl2Success
	for _, c := range root.Children {
		switch c.Name {
		case xml.Name{Space: nsSASL2, Local: "additional-data"}:
			s.AdditionalData = &c.Text
		case xml.Name{Space: nsSASL2, Local: "authorization-identifier"}:
			s.AuthzID = c.Text
		case xml.Name{Space: nsBind2, Local: "bound"}:
			if s.Bound == nil {
				s.Bound = &struct {
					Enabled *smEnabled `xml:"urn:xmpp:sm:3 enabled"`
					Failed  *struct{}  `xml:"urn:xmpp:sm:3 failed"`
				}{}
			}
			for _, b := range c.Children {
				switch b.Name {
				case xml.Name{Space: nsSM, Local: "enabled"}:
					if s.Bound.Enabled == nil {
						s.Bound.Enabled = &smEnabled{}
					}
					attrs(b, map[string]*string{"id": &s.Bound.Enabled.ID, "resume": &s.Bound.Enabled.Resume})
				case xml.Name{Space: nsSM, Local: "failed"}:
					s.Bound.Failed = &struct{}{}
				}
			}
		case xml.Name{Space: nsBind2, Local: "failed"}:
			return nil, false
		case xml.Name{Space: nsSM, Local: "resumed"}:
			if s.Resumed == nil {
				s.Resumed = &struct {
					H string `xml:"h,attr"`
				}{}
			}
			attrs(c, map[string]*string{"h": &s.Resumed.H})
		case xml.Name{Space: nsSM, Local: "failed"}:
			s.ResumeFailed = &struct{}{}
		case xml.Name{Space: auth.NSFAST, Local: "token"}:
			if s.Token == nil {
				s.Token = &struct {
					Expiry string `xml:"expiry,attr"`
					Token  string `xml:"token,attr"`
				}{}
			}
			attrs(c, map[string]*string{"expiry": &s.Token.Expiry, "token": &s.Token.Token})
		}
	}
	return &s, true
}

// attrs sets each field named in to to the value of the attribute of that
// local name, the last one when there are several.
func attrs(n *xmlframe.Node, to map[string]*string) {
	for _, a := range n.Attr {
		if p, ok := to[a.Name.Local]; ok {
			*p = a.Value
		}
	}
}
