package jitsitest_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/prosodytest"
	"github.com/xmppconn/xmppconn/xmppconn"
	"github.com/xmppconn/xmppconn/xmppconn/jitsitest"
)

// TestMain starts the Jitsi-like Prosody; prosodytest.Main also fails the
// run when goroutines leak.
func TestMain(m *testing.M) {
	prosodytest.Main(m, jitsitest.ProsodyOptions())
}

// endpoint is one transport to the test server.
type endpoint struct {
	name string
	url  func(*prosodytest.Server) string
}

var endpoints = []endpoint{
	{"websocket", func(s *prosodytest.Server) string { return s.WebSocketURL(false) }},
	{"bosh", func(s *prosodytest.Server) string { return s.BOSHURL(false) }},
}

// noLeaks fails the test if it leaves goroutines behind.
func noLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// config returns a Config for domain over ep, with quick conference retries.
func config(t *testing.T, s *prosodytest.Server, ep endpoint, domain string) xmppconn.Config {
	hc := s.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	return xmppconn.Config{
		URL:        ep.url(s),
		Domain:     domain,
		HTTPClient: hc,
		Jitsi: xmppconn.JitsiConfig{
			RetryMin: time.Millisecond,
			RetryMax: 5 * time.Millisecond,
		},
	}
}

// connect connects cfg and disconnects when the test ends.
func connect(t *testing.T, cfg xmppconn.Config) (*xmppconn.Connection, *recorder) {
	t.Helper()
	c := xmppconn.New(cfg)
	rec := record(c)
	if err := c.Connect(testCtx(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c, rec
}

// unique returns prefix followed by a random suffix, for room names that
// no other test uses.
func unique(prefix string) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// recorder keeps the events of a Connection.
type recorder struct {
	mu      sync.Mutex
	evs     []events.Event
	changed chan struct{}
}

func record(c *xmppconn.Connection) *recorder {
	r := &recorder{changed: make(chan struct{})}
	c.OnAny(func(e events.Event) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.evs = append(r.evs, e)
		close(r.changed)
		r.changed = make(chan struct{})
	})
	return r
}

// of returns the events of type typ so far.
func (r *recorder) of(typ events.Type) []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []events.Event
	for _, e := range r.evs {
		if e.Type() == typ {
			out = append(out, e)
		}
	}
	return out
}

// names returns the types of the events so far.
func (r *recorder) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.evs {
		out = append(out, string(e.Type()))
	}
	return out
}

// wait waits until n events of type typ came, and returns them.
func (r *recorder) wait(t *testing.T, typ events.Type, n int) []events.Event {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		r.mu.Lock()
		ch := r.changed
		r.mu.Unlock()
		if evs := r.of(typ); len(evs) >= n {
			return evs
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("want %d %s events; got %v", n, typ, r.names())
			return nil
		}
	}
}
