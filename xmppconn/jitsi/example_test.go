package jitsi_test

import (
	"context"
	"errors"
	"log"
	"net/url"
	"os"

	"mellium.im/xmpp/jid"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/xmppconn"
	"github.com/xmppconn/xmppconn/xmppconn/jitsi"
	"github.com/xmppconn/xmppconn/xmppconn/muc"
)

// A bot that joins a Jitsi Meet conference: it connects with a token (on the
// URL, with SASL ANONYMOUS, as Jitsi does), asks the focus for the
// conference, follows a visitor-node redirect itself, and joins the room
// with a display name.
func ExampleDeployment_ConferenceRequest() {
	const (
		service = "wss://meet.example.com/xmpp-websocket"
		domain  = "meet.example.com"
		name    = "standup"
	)
	ctx := context.Background()
	token := os.Getenv("JITSI_TOKEN")

	// connect connects to an XMPP domain of the deployment through the
	// service URL; extra holds more query parameters (vnode=...).
	type bot struct {
		*xmppconn.Connection
		meet  *jitsi.Deployment
		rooms *muc.Rooms
	}
	connect := func(xmppDomain string, extra url.Values) (*bot, error) {
		q := url.Values{"room": {name}}
		for k, v := range extra {
			q[k] = v
		}
		c := xmppconn.New(xmppconn.Config{
			URL:    service + "?" + q.Encode(),
			Domain: xmppDomain,
			// The token goes on the URL as ?token= with SASL ANONYMOUS;
			// it is checked for expiry before every connect and resume.
			Token: auth.StaticToken(token),
		})
		b := &bot{c, jitsi.Attach(c, jitsi.Config{}), muc.New(c, muc.Config{})} // the Jitsi layer, and rooms
		c.On(events.ConnectionTokenExpired, func(events.Event) {
			log.Print("the token expired: fetch a new one and call RefreshToken")
		})
		c.On(events.PropertiesUpdated, func(e events.Event) {
			log.Printf("deployment: %v", e.(events.Properties).Properties)
		})
		c.On(events.ConnectionFailed, func(e events.Event) {
			log.Printf("connection failed: %v", e.(events.Failed))
		})
		return b, c.Connect(ctx)
	}

	c, err := connect(domain, nil)
	if err != nil {
		log.Fatal(err) // an events.Failed
	}
	room := jid.MustParse(name + "@conference." + domain)
	conf, err := c.meet.ConferenceRequest(ctx, room, &jitsi.ConferenceOptions{
		Properties: map[string]string{"visitors-version": "1"},
	})
	var redirect *jitsi.VnodeRedirect
	if errors.As(err, &redirect) {
		// The main room is full: the deployment sends this participant to a
		// visitor node. Moving there is the bot's decision: jitsi-meet
		// reaches it through the same service URL with vnode=…, on the
		// domain <vnode>.meet.jitsi.
		_ = c.Disconnect(ctx)
		vdomain := redirect.VNode + ".meet.jitsi"
		c, err = connect(vdomain, url.Values{"vnode": {redirect.VNode}})
		if err != nil {
			log.Fatal(err)
		}
		room = jid.MustParse(name + "@conference." + vdomain)
		conf, err = c.meet.ConferenceRequest(ctx, room, nil)
	}
	if err != nil {
		// Not live, refused, or cancelled: ConnectionFailed was emitted for
		// the first two, and the connection is down.
		log.Fatal(err)
	}
	defer c.Disconnect(context.Background())

	r, err := c.rooms.Join(ctx, conf.Room, "bot", &muc.JoinOptions{DisplayName: "Standup bot"})
	switch {
	case errors.Is(err, muc.ErrPasswordRequired):
		log.Fatal("the room is locked with a password")
	case err != nil:
		log.Fatal(err)
	}
	log.Printf("joined %s as %s (%s)", r.JID, r.Nick, r.Role)
}
