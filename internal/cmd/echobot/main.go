// Command echobot is a complete bot built on xmppconn, as a model to copy:
// it joins multi-user chat rooms and answers every message in them with
// "echo: " and the message. It stays up like a service should: it retries
// for ever (the first connect included) with capped, jittered waits, joins
// its rooms again after a reconnect that could not resume the session, logs
// why each drop and retry happened, and closes cleanly on SIGINT or SIGTERM
// (how systemd and Kubernetes stop a service).
//
//	ECHOBOT_PASSWORD=… go run ./internal/cmd/echobot -url wss://example.com/xmpp-websocket \
//		-jid bot@example.com -rooms team@conference.example.com
package main

import (
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/xmppconn"
	"github.com/xmppconn/xmppconn/xmppconn/muc"
)

func main() {
	url := flag.String("url", "", "WebSocket (wss://) or BOSH (https://) endpoint")
	account := flag.String("jid", "", "the bot's JID; the password is in $ECHOBOT_PASSWORD")
	rooms := flag.String("rooms", "", "comma-separated rooms to join")
	nick := flag.String("nick", "echobot", "nick in the rooms")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := Config{URL: *url, JID: *account, Password: os.Getenv("ECHOBOT_PASSWORD"), Nick: *nick, Log: log}
	for _, r := range strings.Split(*rooms, ",") {
		if r = strings.TrimSpace(r); r != "" {
			cfg.Rooms = append(cfg.Rooms, r)
		}
	}
	if err := Run(ctx, cfg); err != nil {
		log.Error("echobot", "err", err)
		os.Exit(1)
	}
}

// Config is what the bot needs.
type Config struct {
	URL, JID, Password, Nick string
	Rooms                    []string
	Log                      *slog.Logger
	// Tune, when set, adjusts the Connection's configuration (tests make
	// the waits short).
	Tune func(*xmppconn.Config)
	// Ready, when set, is called once the bot is in its rooms.
	Ready func(*xmppconn.Connection)
}

// Run runs the bot until ctx ends, then disconnects cleanly.
func Run(ctx context.Context, cfg Config) error {
	xcfg := xmppconn.Config{
		URL:         cfg.URL,
		Credentials: auth.Credentials{Username: cfg.JID, Password: auth.NewSecret(cfg.Password)},
		Reconnect:   xmppconn.ServiceReconnect(), // retry for ever, waits capped at 30 s
	}
	bot := &echo{}
	xcfg.Handler = bot
	if cfg.Tune != nil {
		cfg.Tune(&xcfg)
	}
	c := xmppconn.New(xcfg)
	bot.c = c
	rooms := muc.New(c, muc.Config{Rejoin: muc.RejoinConfig{Done: func(room jid.JID, _ *muc.Room, err error) {
		if err != nil {
			cfg.Log.Warn("rejoin refused", "room", room.String(), "err", err)
			return
		}
		cfg.Log.Info("rejoined", "room", room.String())
	}}})
	// Every drop and retry says why.
	c.On(events.StateChanged, func(e events.Event) {
		sc := e.(events.StateChange)
		cfg.Log.Info("state", "state", sc.State.String(), "error", string(sc.Err), "reason", sc.Reason,
			"attempt", sc.Attempt, "next_delay_ms", sc.NextDelayMS)
	})

	if err := c.Connect(ctx); err != nil { // retried until it works, or ctx ends
		return err
	}
	defer c.Disconnect(context.Background())
	for _, r := range cfg.Rooms {
		room, err := jid.Parse(r)
		if err != nil {
			return fmt.Errorf("room %q: %w", r, err)
		}
		if _, err := rooms.Join(ctx, room, cfg.Nick, &muc.JoinOptions{History: muc.History{None: true}}); err != nil {
			return fmt.Errorf("join %s: %w", room, err)
		}
	}
	if cfg.Ready != nil {
		cfg.Ready(c)
	}
	<-ctx.Done() // SIGINT or SIGTERM: the deferred Disconnect closes cleanly
	return nil
}

// echo is the bot's Handler: it answers the messages of its rooms.
type echo struct {
	c *xmppconn.Connection
}

// HandleXMPP answers a groupchat message with a body, unless the bot sent it.
func (e *echo) HandleXMPP(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	msg, err := stanza.NewMessage(*start)
	if err != nil || msg.Type != stanza.GroupChatMessage {
		return nil
	}
	var body struct {
		Body string `xml:"body"`
	}
	if err := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(*start), r, xmlstream.Token(start.End()))).Decode(&body); err != nil {
		return err
	}
	if body.Body == "" || strings.HasPrefix(body.Body, "echo: ") {
		return nil // no subject changes, and never answer itself
	}
	reply := stanza.Message{To: msg.From.Bare(), Type: stanza.GroupChatMessage}.Wrap(
		xmlstream.Wrap(xmlstream.Token(xml.CharData("echo: "+body.Body)), xml.StartElement{Name: xml.Name{Local: "body"}}))
	err = e.c.Send(context.Background(), reply)
	if errors.Is(err, xmppconn.ErrQueueFull) {
		return nil // the session is down and the queue is full: drop the echo
	}
	return err
}
