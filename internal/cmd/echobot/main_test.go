package main

import (
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/faultproxy"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
	"github.com/xmppconn/xmppconn/xmppconn/muc"
)

// listener is a user in the bot's room: it collects the bot's echoes.
type listener struct {
	mu     sync.Mutex
	echoes []string
	got    chan struct{}
}

func (l *listener) HandleXMPP(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	if start.Name.Local != "message" {
		return nil
	}
	var m struct {
		Body string `xml:"body"`
	}
	if err := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(*start), r, xmlstream.Token(start.End()))).Decode(&m); err != nil {
		return err
	}
	if strings.HasPrefix(m.Body, "echo: ") {
		l.mu.Lock()
		l.echoes = append(l.echoes, m.Body)
		l.mu.Unlock()
		select {
		case l.got <- struct{}{}:
		default:
		}
	}
	return nil
}

// waitEcho says body in room and waits for the bot's echo of it.
func (l *listener) waitEcho(t *testing.T, c *xmppconn.Connection, room jid.JID, body string) {
	t.Helper()
	msg := stanza.Message{To: room, Type: stanza.GroupChatMessage}.Wrap(
		xmlstream.Wrap(xmlstream.Token(xml.CharData(body)), xml.StartElement{Name: xml.Name{Local: "body"}}))
	if err := c.Send(xmpptest.Context(t), msg); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(20 * time.Second)
	for {
		l.mu.Lock()
		for _, e := range l.echoes {
			if e == "echo: "+body {
				l.mu.Unlock()
				return
			}
		}
		l.mu.Unlock()
		select {
		case <-l.got:
		case <-deadline:
			t.Fatalf("no echo of %q", body)
		}
	}
}

// states records the bot's state changes.
type states struct {
	mu  sync.Mutex
	all []events.StateChange
}

func (s *states) list() []events.StateChange {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]events.StateChange(nil), s.all...)
}

// startBot runs the bot against url until the test ends.
func startBot(t *testing.T, s *servertest.Server, url, room string, tune func(*xmppconn.Config)) (*states, <-chan *xmppconn.Connection) {
	t.Helper()
	user, pass := s.NewUser(t)
	st := &states{}
	ready := make(chan *xmppconn.Connection, 1)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{
			URL: url, JID: user + "@" + s.Domain, Password: pass, Nick: "echobot", Rooms: []string{room},
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Tune: func(c *xmppconn.Config) {
				c.HTTPClient = s.HTTPClient()
				c.AllowPlain = true
				if tune != nil {
					tune(c)
				}
			},
			Ready: func(c *xmppconn.Connection) {
				c.On(events.StateChanged, func(e events.Event) {
					st.mu.Lock()
					st.all = append(st.all, e.(events.StateChange))
					st.mu.Unlock()
				})
				ready <- c
			},
		})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return st, ready
}

// joinRoom connects a user who joins room as nick.
func joinRoom(t *testing.T, s *servertest.Server, room jid.JID, nick string) (*xmppconn.Connection, *listener) {
	t.Helper()
	user, pass := s.NewUser(t)
	l := &listener{got: make(chan struct{}, 1)}
	c := xmppconn.New(xmppconn.Config{
		URL: s.WebSocketURL(false), HTTPClient: s.HTTPClient(), Handler: l, AllowPlain: true,
		Credentials: auth.Credentials{Username: user + "@" + s.Domain, Password: auth.NewSecret(pass)},
	})
	rooms := muc.New(c, muc.Config{})
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	if _, err := rooms.Join(xmpptest.Context(t), room, nick, &muc.JoinOptions{History: muc.History{None: true}}); err != nil {
		t.Fatal(err)
	}
	return c, l
}

// TestMain runs the tests on the servers XMPPCONN_SERVER selects (each test
// starts its own) and fails the run when goroutines leak.
func TestMain(m *testing.M) { servertest.Main(m, nil) }

// TestBotSurvivesServerRestart: the server restarts under the bot; the bot
// comes back with a fresh session, joins its room again, and answers a
// message in it again.
func TestBotSurvivesServerRestart(t *testing.T) {
	servertest.EachKind(t, "", testBotSurvivesServerRestart)
}

func testBotSurvivesServerRestart(t *testing.T, k servertest.Kind) {
	s := servertest.StartTest(t, k, roomsUnlocked(k))
	room := jid.MustParse("echo-restart@" + s.MUCDomain)
	_, ready := startBot(t, s, s.WebSocketURL(false), room.String(), func(c *xmppconn.Config) {
		c.Reconnect.MaxDelay = 200 * time.Millisecond
	})
	var bot *xmppconn.Connection
	select {
	case bot = <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("the bot never got ready")
	}
	c, l := joinRoom(t, s, room, "user")
	l.waitEcho(t, c, room, "before")
	fresh := make(chan struct{}, 1)
	bot.On(events.ConnectionEstablished, func(e events.Event) {
		if !e.(events.Established).Resumed {
			fresh <- struct{}{}
		}
	})

	if err := s.Restart(xmpptest.Context(t)); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	// The restart lost every session and emptied the room: the bot joins
	// again by itself once it is back, and so does the first user's
	// Connection (muc rejoins after a fresh session), at a time of its own;
	// a second user, with a nick of their own, says something.
	select {
	case <-fresh:
	case <-time.After(30 * time.Second):
		t.Fatal("the bot never came back with a fresh session")
	}
	c2, l2 := joinRoom(t, s, room, "user2")
	l2.waitEcho(t, c2, room, "after")
	_ = c
}

// TestBotRidesOutOutage: the network refuses connections for three times
// the default give-up time (scaled down: short waits); the bot comes back,
// and every retry on the way said why.
func TestBotRidesOutOutage(t *testing.T) { servertest.EachKind(t, "", testBotRidesOutOutage) }

func testBotRidesOutOutage(t *testing.T, k servertest.Kind) {
	s := servertest.StartTest(t, k, roomsUnlocked(k))
	p, err := faultproxy.Start("127.0.0.1:" + strconv.Itoa(s.HTTPPort))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	room := jid.MustParse("echo-outage@" + s.MUCDomain)
	const (
		maxDelay = 100 * time.Millisecond
		// lib-jitsi-meet gives up after 3 attempts: about 3 waits. Three
		// times that, at this scale, is ~9 waits of up to maxDelay.
		outage = 9 * maxDelay
	)
	st, ready := startBot(t, s, "ws://"+p.Addr()+"/xmpp-websocket", room.String(), func(c *xmppconn.Config) {
		c.Reconnect.MaxDelay = maxDelay
		c.Ping.Interval, c.Ping.Timeout, c.Ping.Failures = 100*time.Millisecond, 100*time.Millisecond, 1
	})
	var bot *xmppconn.Connection
	select {
	case bot = <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("the bot never got ready")
	}
	c, l := joinRoom(t, s, room, "user")
	l.waitEcho(t, c, room, "before")

	p.Refuse()
	p.Reset() // cut what is open: the bot sees the loss at once
	xmpptest.Eventually(t, "four failed attempts", func() bool {
		n := 0
		for _, sc := range st.list() {
			if sc.State == events.StateDisconnected && sc.Attempt > 0 {
				n++
			}
		}
		return n >= 4
	})
	// The outage goes on for its length; there is no event to wait for.
	time.Sleep(outage)
	p.Restore()
	xmpptest.Eventually(t, "the bot back", func() bool { return bot.State() == events.StateConnected })
	l.waitEcho(t, c, room, "after")

	var retries, reasons int
	for _, sc := range st.list() {
		if sc.State == events.StateDisconnected || sc.State == events.StateReconnecting {
			retries++
			if sc.Err != "" && sc.Reason != "" {
				reasons++
			}
		}
		if sc.State == events.StateFailed {
			t.Errorf("the bot gave up: %+v", sc)
		}
	}
	if retries < 8 || reasons != retries {
		t.Errorf("%d DISCONNECTED/RECONNECTING events, %d with a reason; want at least 8, each with one", retries, reasons)
	}
}

// roomsUnlocked returns the options of a server of kind k whose new rooms
// are usable at once (an instant room, without the owner's configuration
// step of XEP-0045 §10.1). Prosody locks a new room until then unless told
// not to; ejabberd does not lock it.
func roomsUnlocked(k servertest.Kind) *servertest.Options {
	if !k.IsProsody() {
		return nil
	}
	return &servertest.Options{Prosody: servertest.ProsodyOptions{ExtraMUC: "\tmuc_room_locking = false\n"}}
}
