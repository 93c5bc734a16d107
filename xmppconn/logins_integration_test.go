package xmppconn_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// consecutiveLogins is how many logins TestIntegrationConsecutiveLogins
// makes per server and endpoint.
const consecutiveLogins = 200

// maxStalls ends TestIntegrationConsecutiveLogins early, failed: past it
// the count says enough, and each stall costs seconds.
const maxStalls = 5

// loginBound bounds one login of TestIntegrationConsecutiveLogins: Connect
// then Disconnect. A login takes tens of milliseconds here; one that needs
// more than this stalled (each negotiation step alone waits up to
// Ping.Timeout, 2 s here, for the server).
const loginBound = 10 * time.Second

// TestIntegrationConsecutiveLogins makes 200 password logins (Connect, then
// Disconnect) one after the other, over BOSH and over WebSocket, on every
// server: none may stall. A stall is a login that fails or takes longer than
// loginBound; the test counts them (it gives up after maxStalls) and reports
// the wall time, the median and the slowest login.
//
// Over BOSH it checks the rid order at the connection manager
// (transport/bosh, order.go). When two requests left together (the
// long-poll and the next payload, as after every answer during a login),
// ejabberd 23.01 could read them from their two connections in the other
// order, and then held the empty poll without taking the payload queued
// above it, until the poll's wait ended: the step stalled, in 26 of 200
// logins here, though the client wrote them in rid order. The long-poll now
// waits for the reader, and a request that follows a fresh one waits until
// that one counts as read: no stall in 600 logins.
func TestIntegrationConsecutiveLogins(t *testing.T) { servertest.Each(t, testConsecutiveLogins) }

func testConsecutiveLogins(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	for _, ep := range []servertest.Endpoint{servertest.BOSHHTTP, servertest.WS} {
		t.Run(ep.Name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			cfg := xmpptest.ServerConfig(t, s, ep.URL(s))
			cfg.Credentials = xmpptest.Login(user, pass)
			cfg.Reconnect.Disabled = true
			// Each wait for the server during the login: a step that
			// stalls fails after it (a step takes a few milliseconds).
			cfg.Ping.Timeout = 2 * time.Second
			var took []time.Duration
			stalls := 0
			start := time.Now()
			for i := range consecutiveLogins {
				ctx, cancel := context.WithTimeout(context.Background(), loginBound)
				t0 := time.Now()
				c := xmppconn.New(cfg)
				err := c.Connect(ctx)
				if err == nil {
					err = c.Disconnect(ctx)
				} else {
					_ = c.Disconnect(context.Background())
				}
				cancel()
				d := time.Since(t0)
				took = append(took, d)
				if err != nil || d > loginBound {
					stalls++
					t.Errorf("login %d of %d stalled after %v: %v", i+1, consecutiveLogins, d.Round(time.Millisecond), err)
					if stalls == maxStalls {
						t.Errorf("%d stalls in %d logins: giving up", stalls, i+1)
						break
					}
				}
			}
			wall := time.Since(start)
			slices.Sort(took)
			t.Logf("%s %s: %d logins in %v, %d stalled; median %v, slowest %v",
				s, ep.Name, len(took), wall.Round(time.Millisecond), stalls,
				took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
		})
	}
}
