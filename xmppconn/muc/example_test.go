package muc_test

import (
	"context"
	"errors"
	"log"
	"os"

	"mellium.im/xmpp/jid"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/xmppconn"
	"github.com/xmppconn/xmppconn/xmppconn/muc"
)

// A bot that joins a room with its password and a display name.
func ExampleRooms_Join() {
	ctx := context.Background()
	c := xmppconn.New(xmppconn.Config{
		URL:         "wss://example.com/xmpp-websocket",
		Credentials: auth.Credentials{Username: "bot", Password: auth.NewSecret(os.Getenv("BOT_PASSWORD"))},
	})
	rooms := muc.New(c, muc.Config{}) // before Connect
	if err := c.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	defer c.Disconnect(context.Background())

	r, err := rooms.Join(ctx, jid.MustParse("team@conference.example.com"), "bot", &muc.JoinOptions{
		Password:    os.Getenv("ROOM_PASSWORD"),
		DisplayName: "Team bot",
	})
	switch {
	case errors.Is(err, muc.ErrPasswordRequired):
		log.Fatal("wrong room password")
	case errors.Is(err, muc.ErrNicknameConflict):
		log.Fatal("someone else is called bot")
	case err != nil:
		log.Fatal(err)
	}
	log.Printf("joined %s as %s (%s, %s)", r.JID, r.Nick, r.Affiliation, r.Role)
}
