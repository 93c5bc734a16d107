package jitsitest_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/internal/prosodytest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
	"github.com/xmppconn/xmppconn/xmppconn/jitsi"
	"github.com/xmppconn/xmppconn/xmppconn/jitsi/jitsitest"
	"github.com/xmppconn/xmppconn/xmppconn/muc"
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

// config returns a Config for domain over ep.
func config(t *testing.T, s *prosodytest.Server, ep endpoint, domain string) xmppconn.Config {
	hc := s.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	return xmppconn.Config{
		URL:        ep.url(s),
		Domain:     domain,
		HTTPClient: hc,
	}
}

// jitsiConfig is the Jitsi layer of the tests, with quick conference
// retries.
var jitsiConfig = jitsi.Config{RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond}

// meet is a Connection with the Jitsi layer and rooms attached.
type meet struct {
	*xmppconn.Connection
	*jitsi.Deployment
	*muc.Rooms
}

// connect connects cfg with the Jitsi layer attached and disconnects when
// the test ends.
func connect(t *testing.T, cfg xmppconn.Config) (*meet, *xmpptest.Recorder) {
	t.Helper()
	conn := xmppconn.New(cfg)
	c := &meet{conn, jitsi.Attach(conn, jitsiConfig), muc.New(conn, muc.Config{})}
	rec := xmpptest.Record(conn)
	if err := c.Connect(xmpptest.Context(t)); err != nil {
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
