package xmppconn_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// connectedKeepalive connects over a fake transport pinging every 20 ms of
// idleness with the given timeout and failures, recovery off, and returns
// the connection, the fake and the event recorder.
func connectedKeepalive(t *testing.T, timeout time.Duration, failures int) (*xmppconn.Connection, *xmpptest.FakeConn, *xmpptest.Recorder) {
	t.Helper()
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	cfg := f.Config()
	cfg.Ping = xmppconn.PingConfig{Interval: 20 * time.Millisecond, Timeout: timeout, Failures: failures}
	cfg.Reconnect.Disabled = true
	c := xmppconn.New(cfg)
	rec := xmpptest.Record(c)
	go func() { f.Send(xmpptest.BindResult(f.ServeLogin(t))) }()
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Disconnect(xmpptest.Context(t)) })
	return c, f, rec
}

// nextPing waits for the client's next XEP-0199 ping and returns its id.
func nextPing(t *testing.T, f *xmpptest.FakeConn) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-f.FromClient:
			s := string(e)
			if strings.Contains(s, "urn:xmpp:ping") {
				m := xmpptest.IDAttr.FindStringSubmatch(s)
				if m == nil {
					t.Fatalf("ping without id: %s", s)
				}
				return m[1]
			}
		case <-deadline:
			t.Fatal("no ping from the client")
			return ""
		}
	}
}

// TestKeepaliveAnswered: an idle session pings, and answered pings keep it
// CONNECTED, ping after ping.
func TestKeepaliveAnswered(t *testing.T) {
	c, f, _ := connectedKeepalive(t, 5*time.Second, 1)
	for range 3 {
		id := nextPing(t, f)
		f.Send(`<iq xmlns='jabber:client' type='result' from='example.net' id='` + id + `'/>`)
	}
	if st := c.State(); st != events.StateConnected {
		t.Errorf("state after answered pings = %v, want CONNECTED", st)
	}
}

// TestKeepaliveUnanswered: Failures pings in a row without an answer (and
// no other data) lose the session with ErrPingTimeout; with recovery off it
// ends in FAILED.
func TestKeepaliveUnanswered(t *testing.T) {
	_, f, rec := connectedKeepalive(t, 20*time.Millisecond, 2)
	first := nextPing(t, f)
	second := nextPing(t, f) // sent at once after the first miss
	if first == second {
		t.Errorf("the second ping reused the id %q", first)
	}
	e := rec.WaitFor(t, 10*time.Second, "ConnectionFailed", func(e events.Event) bool {
		_, ok := e.(events.Failed)
		return ok
	})
	if f := e.(events.Failed); !errors.Is(f, xmppconn.ErrPingTimeout) {
		t.Errorf("ConnectionFailed = %v, want one caused by ErrPingTimeout", f)
	}
}

// TestKeepaliveDataCounts: inbound data while a ping waits proves the
// stream alive as well as the answer would.
func TestKeepaliveDataCounts(t *testing.T) {
	c, f, _ := connectedKeepalive(t, time.Second, 1)
	nextPing(t, f)
	f.Send(`<message xmlns='jabber:client' from='peer@example.net/r'><body>hi</body></message>`)
	nextPing(t, f) // the session lived on to ping again
	if st := c.State(); st != events.StateConnected {
		t.Errorf("state = %v, want CONNECTED", st)
	}
}
