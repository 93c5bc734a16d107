package xmppconn_test

// This file holds the README's library snippet as it is there, so that the
// compiler checks it; TestREADMESnippets keeps the two the same.

import (
	"context"
	"encoding/xml"
	"log"
	"os"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/mux"
	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/xmppconn"
)

func runBot(ctx context.Context, peer jid.JID) error {
	c := xmppconn.New(xmppconn.Config{
		URL:         "wss://meet.example.com/xmpp-websocket", // or https://…/http-bind for BOSH
		Credentials: auth.Credentials{Username: "bot@meet.example.com", Password: auth.NewSecret(os.Getenv("BOT_PASSWORD"))},
		Handler:     mux.New("jabber:client"),    // what the bot answers; nil ignores every stanza
		Reconnect:   xmppconn.ServiceReconnect(), // a service: retry for ever, waits capped at 30 s
	})
	c.On(events.StateChanged, func(e events.Event) {
		sc := e.(events.StateChange)
		log.Printf("%s -> %s %s", sc.From, sc.State, sc.Reason) // why each drop and retry happened
	})
	if err := c.Connect(ctx); err != nil { // err is the events.Failed that was emitted
		return err
	}
	defer c.Disconnect(context.Background()) // returns after the listeners saw CLOSED
	body := xmlstream.Wrap(xmlstream.Token(xml.CharData("hello")), xml.StartElement{Name: xml.Name{Local: "body"}})
	if err := c.Send(ctx, stanza.Message{To: peer, Type: stanza.ChatMessage}.Wrap(body)); err != nil {
		return err
	}
	sess := c.Session() // the negotiated *mellium.im/xmpp.Session, for higher-level XEPs
	_ = sess
	<-ctx.Done()
	return nil
}

func Example_readme() {
	_ = runBot // compiled, not run: it needs a server
}
