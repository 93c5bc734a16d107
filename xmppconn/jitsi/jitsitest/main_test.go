package jitsitest_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
	"github.com/xmppconn/xmppconn/xmppconn/jitsi"
	"github.com/xmppconn/xmppconn/xmppconn/jitsi/jitsitest"
	"github.com/xmppconn/xmppconn/xmppconn/muc"
)

// TestMain runs the tests on each server of the matrix that XMPPCONN_SERVER
// selects, the Prosodies configured as the Jitsi-like deployment;
// servertest.Main also fails the run when goroutines leak.
func TestMain(m *testing.M) {
	servertest.Main(m, jitsitest.Options)
}

// endpoints are the transports the tests use, without TLS.
var endpoints = []servertest.Endpoint{servertest.WS, servertest.BOSHHTTP}

// config returns a Config for domain over ep.
func config(t *testing.T, s *servertest.Server, ep servertest.Endpoint, domain string) xmppconn.Config {
	cfg := xmpptest.ServerConfig(t, s, ep.URL(s))
	cfg.Domain = domain
	return cfg
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
