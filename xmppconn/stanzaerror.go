package xmppconn

import (
	"encoding/xml"

	"mellium.im/xmpp/jid"

	"mellium.im/xmpp/stanza"
)

// ParseStanzaError reads the <error/> child of a serialized stanza. A
// stanza without one, or malformed XML, gives a *ProtocolError; an error
// without a defined condition gets undefined-condition.
func ParseStanzaError(elem []byte) (*StanzaError, error) {
	var v struct {
		Error *struct {
			Type     string `xml:"type,attr"`
			By       string `xml:"by,attr"`
			Children []struct {
				XMLName xml.Name
				Attr    []xml.Attr `xml:",any,attr"`
				Lang    string     `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
				Text    string     `xml:",chardata"`
			} `xml:",any"`
		} `xml:"error"`
	}
	if err := xml.Unmarshal(elem, &v); err != nil {
		return nil, &ProtocolError{Step: "stanza error", Msg: "malformed stanza", Err: err}
	}
	if v.Error == nil {
		return nil, &ProtocolError{Step: "stanza error", Msg: "error stanza without <error/>"}
	}
	se := &StanzaError{Err: stanza.Error{Type: stanza.ErrorType(v.Error.Type)}}
	if v.Error.By != "" {
		se.Err.By, _ = jid.Parse(v.Error.By) // an unparsable by says nothing
	}
	for _, ch := range v.Error.Children {
		switch {
		case ch.XMLName.Space == stanza.NSError && ch.XMLName.Local == "text":
			if _, dup := se.Err.Text[ch.Lang]; !dup && ch.Text != "" {
				if se.Err.Text == nil {
					se.Err.Text = make(map[string]string, 1)
				}
				se.Err.Text[ch.Lang] = ch.Text
			}
		case ch.XMLName.Space == stanza.NSError:
			if se.Err.Condition == "" {
				se.Err.Condition = stanza.Condition(ch.XMLName.Local)
			}
		case se.App == nil:
			se.App = &xml.StartElement{Name: ch.XMLName, Attr: ch.Attr}
		}
	}
	if se.Err.Condition == "" {
		se.Err.Condition = stanza.UndefinedCondition
	}
	return se, nil
}
