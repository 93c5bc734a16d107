package xmppconn_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// TestSMBurstBoundedOnTheWire: a Connection sends a burst ten times its
// MaxUnacked to a server that acknowledges each <r/> late, when the next
// one comes. Seen from the server, the stanzas it has not acknowledged
// never pass the bound; they all arrive, in order; the client asks for an
// ack once per half bound, not per few stanzas (the timers, which ask
// when the stanzas pause, are set out of the way).
func TestSMBurstBoundedOnTheWire(t *testing.T) {
	xmpptest.NoLeaks(t)
	const bound, burst = 20, 200
	f := xmpptest.NewFakeConn()
	cfg := recoverConfig(&dialer{conns: []*xmpptest.FakeConn{f}, err: errRefused})
	cfg.StreamManagement.MaxUnacked = bound
	cfg.StreamManagement.RequestIdle = time.Minute
	cfg.StreamManagement.RequestMaxDelay = time.Minute
	c := xmppconn.New(cfg)
	wait := server(t, func() { serveSMLogin(t, f) })
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer c.Disconnect(context.Background())
	wait()

	type result struct {
		bodies               []string
		requests, maxUnacked int
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() { done <- r }()
		// The server answers late: each <r/> when the next one comes, so
		// that the client reaches its bound.
		acked, owed := 0, -1
		for len(r.bodies) < burst {
			var e string
			select {
			case b := <-f.FromClient:
				e = string(b)
			case <-ctx.Done():
				return
			}
			switch {
			case strings.HasPrefix(e, "<r "):
				r.requests++
				if owed >= 0 {
					acked = owed
					f.Send(fmt.Sprintf("<a xmlns='urn:xmpp:sm:3' h='%d'/>", acked))
				}
				owed = len(r.bodies)
			case strings.HasPrefix(e, "<message"):
				b := e[strings.Index(e, "<body>")+6:]
				r.bodies = append(r.bodies, b[:strings.Index(b, "</body>")])
				r.maxUnacked = max(r.maxUnacked, len(r.bodies)-acked)
			}
		}
	}()
	for i := range burst {
		if err := xmpptest.SendBody(ctx, c, c.JID().Bare(), strconv.Itoa(i)); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	r := <-done
	if len(r.bodies) < burst {
		t.Fatalf("the server got %d of %d messages", len(r.bodies), burst)
	}
	for i, b := range r.bodies {
		if b != strconv.Itoa(i) {
			t.Fatalf("message %d has body %q: lost or out of order", i, b)
		}
	}
	if r.maxUnacked > bound {
		t.Errorf("%d stanzas unacknowledged at once, bound %d", r.maxUnacked, bound)
	}
	if r.maxUnacked < bound {
		t.Errorf("at most %d stanzas unacknowledged: the burst never reached the bound (%d), the test shows nothing", r.maxUnacked, bound)
	}
	if limit := burst / (bound / 2); r.requests > limit {
		t.Errorf("%d <r/> for %d stanzas, want at most %d", r.requests, burst, limit)
	}
	t.Logf("%d messages, %d <r/>, at most %d unacknowledged", len(r.bodies), r.requests, r.maxUnacked)
}
