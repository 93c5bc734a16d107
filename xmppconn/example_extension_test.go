package xmppconn_test

import (
	"context"
	"log"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// An extension that counts the messages of the session and reports when
// the stream comes and goes. Packages such as xmppconn/jitsi are built the
// same way.
func ExampleConnection_Extend() {
	c := xmppconn.New(xmppconn.Config{URL: "wss://example.com/xmpp-websocket"})
	messages := 0
	remove := c.Extend(xmppconn.Extension{
		// On the Connection's processor: quick, never blocking.
		Inbound: func(s xmppconn.Stanza) {
			if s.Start.Name.Local == "message" {
				messages++
			}
		},
		Up: func(resumed bool) {
			// Longer work runs with Go, and ends with the stream.
			c.Go(func(stream context.Context) {
				<-stream.Done()
				log.Printf("stream gone after %d messages", messages)
			})
		},
	})
	defer remove()
	c.On(events.ConnectionEstablished, func(e events.Event) {
		log.Print("connected")
	})
	if err := c.Connect(context.Background()); err != nil {
		log.Print(err)
		return
	}
	defer c.Disconnect(context.Background())
}
