package muc_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/xmppconn"
	"github.com/xmppconn/xmppconn/xmppconn/muc"
)

const room = "r@conference.example.net"

// selfPresence is the room's answer to a join (or, with typ unavailable, a
// leave) of nick.
func selfPresence(nick, typ string) string {
	t := ""
	if typ != "" {
		t = " type='" + typ + "'"
	}
	return `<presence xmlns='jabber:client' from='` + room + `/` + nick + `' to='anon@example.net/r1'` + t + `>` +
		`<x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='participant'/><status code='110'/></x></presence>`
}

// awaitPresence returns the next presence the client sends, skipping other
// elements.
func awaitPresence(t *testing.T, f *xmpptest.FakeConn) string {
	t.Helper()
	for {
		if e := f.Next(t); strings.HasPrefix(e, "<presence") {
			return e
		}
	}
}

// connected returns a Connection with Rooms over a fake server that can be
// reached twice (fakes[0], then fakes[1] after a loss).
func connected(t *testing.T, cfg muc.Config, fakes ...*xmpptest.FakeConn) (*xmppconn.Connection, *muc.Rooms) {
	t.Helper()
	next := make(chan *xmpptest.FakeConn, len(fakes))
	for _, f := range fakes {
		next <- f
	}
	xcfg := fakes[0].Config()
	xcfg.Ping.Disabled = true
	xcfg.Reconnect.Delay = func(int) time.Duration { return 0 }
	xcfg.Dial = func(context.Context, string, string) (transport.Conn, error) { return <-next, nil }
	c := xmppconn.New(xcfg)
	rooms := muc.New(c, cfg)
	go func() { fakes[0].Send(xmpptest.BindResult(fakes[0].ServeLogin(t))) }()
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c, rooms
}

func TestJoinHistory(t *testing.T) {
	since := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		history muc.History
		want    string // "" for no <history/>
	}{
		{"default", muc.History{}, ""},
		{"none", muc.History{None: true, MaxStanzas: 5}, `<history maxstanzas="0"></history>`},
		{"last 20", muc.History{MaxStanzas: 20}, `<history maxstanzas="20"></history>`},
		{"since and chars", muc.History{Since: since, MaxChars: 1000}, `<history maxchars="1000" since="2026-12-01T10:00:00Z"></history>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			f := xmpptest.NewFakeConn()
			_, rooms := connected(t, muc.Config{}, f)
			go func() {
				p := awaitPresence(t, f)
				if tc.want == "" && strings.Contains(p, "history") || !strings.Contains(p, tc.want) {
					t.Errorf("join presence %s, want %q", p, tc.want)
				}
				f.Send(selfPresence("bot", ""))
			}()
			if _, err := rooms.Join(xmpptest.Context(t), jid.MustParse(room), "bot", &muc.JoinOptions{History: tc.history}); err != nil {
				t.Fatalf("Join: %v", err)
			}
		})
	}
}

func TestLeave(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	_, rooms := connected(t, muc.Config{}, f)
	r := jid.MustParse(room)
	if err := rooms.Leave(xmpptest.Context(t), r, ""); err == nil {
		t.Error("Leave of a room never joined succeeded")
	}
	go func() {
		awaitPresence(t, f)
		f.Send(selfPresence("bot", ""))
	}()
	if _, err := rooms.Join(xmpptest.Context(t), r, "bot", nil); err != nil {
		t.Fatalf("Join: %v", err)
	}
	go func() {
		p := awaitPresence(t, f)
		if !strings.Contains(p, `type="unavailable"`) || !strings.Contains(p, "<status>bye</status>") || !strings.Contains(p, room+"/bot") {
			t.Errorf("leave presence %s", p)
		}
		f.Send(selfPresence("someone-else", "unavailable")) // not our answer
		f.Send(selfPresence("bot", "unavailable"))
	}()
	if err := rooms.Leave(xmpptest.Context(t), r, "bye"); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	if got := rooms.Joined(); len(got) != 0 {
		t.Errorf("Joined() after Leave = %v", got)
	}
}

// TestRejoinAfterFreshSession: after a loss that could not be resumed, the
// rooms are joined again with the same nick, password and display name,
// asking for the history since the drop, and each outcome is reported.
func TestRejoinAfterFreshSession(t *testing.T) {
	xmpptest.NoLeaks(t)
	f1, f2 := xmpptest.NewFakeConn(), xmpptest.NewFakeConn()
	done := make(chan error, 2)
	c, rooms := connected(t, muc.Config{Rejoin: muc.RejoinConfig{Done: func(r jid.JID, got *muc.Room, err error) {
		if err == nil && (got.Nick != "bot" || !got.JID.Equal(jid.MustParse(room))) {
			err = errors.New("rejoined as " + got.Nick)
		}
		done <- err
	}}}, f1, f2)
	go func() {
		awaitPresence(t, f1)
		f1.Send(selfPresence("bot", ""))
	}()
	opts := &muc.JoinOptions{Password: "s3cret", DisplayName: "Bot", History: muc.History{MaxStanzas: 5}}
	if _, err := rooms.Join(xmpptest.Context(t), jid.MustParse(room), "bot", opts); err != nil {
		t.Fatalf("Join: %v", err)
	}
	close(f1.ToClient) // lost; f2 has no stream management: a fresh session
	f2.Send(xmpptest.BindResult(f2.ServeLogin(t)))
	p := awaitPresence(t, f2)
	for _, want := range []string{room + "/bot", "<password>s3cret</password>", ">Bot</nick>", `since="`} {
		if !strings.Contains(p, want) {
			t.Errorf("rejoin presence %s lacks %s", p, want)
		}
	}
	f2.Send(selfPresence("bot", ""))
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("rejoin: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no rejoin outcome")
	}
	_ = c
}
