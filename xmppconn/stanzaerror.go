package xmppconn

import (
	"encoding/xml"

	"mellium.im/xmpp/stanza"
)

// stanzaError is a stanza's <error/> (RFC 6120 §8.3) as the Jitsi helpers
// read it, with Jitsi's own <displayname-required/> condition.
type stanzaError struct {
	Type                string // auth, cancel, continue, modify, wait
	Condition           string // the RFC 6120 condition, e.g. "not-authorized"
	Text                string // the server's <text/>, if any
	DisplayNameRequired bool   // <displayname-required xmlns='http://jitsi.org/jitmeet'/>
	Lobby               bool   // its lobby='true'
}

// parseStanzaError reads the <error/> child of a serialized stanza. A stanza
// without one, or malformed XML, gives a *ProtocolError; an error without a
// known condition gets "undefined-condition".
func parseStanzaError(elem []byte) (*stanzaError, error) {
	var v struct {
		Error *struct {
			Type     string `xml:"type,attr"`
			Children []struct {
				XMLName xml.Name
				Lobby   string `xml:"lobby,attr"`
				Text    string `xml:",chardata"`
			} `xml:",any"`
		} `xml:"error"`
	}
	if err := xml.Unmarshal(elem, &v); err != nil {
		return nil, &ProtocolError{Step: "stanza error", Msg: "malformed stanza", Err: err}
	}
	if v.Error == nil {
		return nil, &ProtocolError{Step: "stanza error", Msg: "error stanza without <error/>"}
	}
	se := &stanzaError{Type: v.Error.Type}
	for _, ch := range v.Error.Children {
		switch {
		case ch.XMLName.Space == stanza.NSError && ch.XMLName.Local == "text":
			if se.Text == "" {
				se.Text = ch.Text
			}
		case ch.XMLName.Space == stanza.NSError:
			if se.Condition == "" {
				se.Condition = ch.XMLName.Local
			}
		case ch.XMLName.Space == nsJitMeet && ch.XMLName.Local == "displayname-required":
			se.DisplayNameRequired = true
			se.Lobby = ch.Lobby == "true" || ch.Lobby == "1"
		}
	}
	if se.Condition == "" {
		se.Condition = string(stanza.UndefinedCondition)
	}
	return se, nil
}

// reason returns the server's text, or the condition when there is none.
func (se *stanzaError) reason() string {
	if se.Text != "" {
		return se.Text
	}
	return se.Condition
}
