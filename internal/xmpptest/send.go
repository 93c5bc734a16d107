package xmpptest

import (
	"context"
	"encoding/xml"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/xmppconn"
)

// SendBody sends a chat message with body to to.
func SendBody(ctx context.Context, c *xmppconn.Connection, to jid.JID, body string) error {
	return c.Send(ctx, stanza.Message{To: to, Type: stanza.ChatMessage}.Wrap(
		xmlstream.Wrap(xmlstream.Token(xml.CharData(body)), xml.StartElement{Name: xml.Name{Local: "body"}}),
	))
}
