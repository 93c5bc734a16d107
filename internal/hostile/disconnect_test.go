package hostile

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mellium.im/xmlstream"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// disconnectDeadline is the context Disconnect gets in these cases.
const disconnectDeadline = 500 * time.Millisecond

// TestDisconnectDeadline: Disconnect returns by its context's deadline
// whatever the server and the Handler do: with a backlog for a slow
// Handler after the server went away, with a Handler that is stuck, with a
// server that never answers the close, during a Connect the server stalls.
// What was dropped is counted and logged.
func TestDisconnectDeadline(t *testing.T) {
	for _, k := range bothTransports {
		t.Run("backlog for a slow Handler, the server gone/"+string(k), func(t *testing.T) {
			const n = 1000
			var handled atomic.Int32
			slow := handlerFunc(func(xmlstream.TokenReadEncoder, *xml.StartElement) error {
				time.Sleep(5 * time.Millisecond)
				handled.Add(1)
				return nil
			})
			s := startSession(t, k, liveCase{
				tweak: func(c *xmppconn.Config) { c.Handler = slow },
				then: func(ctx context.Context, p Peer, _ int) {
					for i := range n {
						if p.Send(ctx, Message(i, 100)) != nil {
							return
						}
					}
					// The server goes away: the stream ends.
				},
			})
			// Wait until the Handler has a backlog: a few handled, many waiting.
			deadline := time.Now().Add(10 * time.Second)
			for handled.Load() < 20 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			took := s.finish(disconnectDeadline)
			t.Logf("Disconnect took %v; the Handler got %d of %d", took.Round(time.Millisecond), handled.Load(), n)
			if took <= disconnectDeadline+slack && handled.Load() >= n {
				t.Errorf("the Handler got all %d stanzas: nothing was left to drop, the case proves nothing", n)
			}
			if !strings.Contains(strings.ToLower(s.logs.String()), "drop") {
				t.Errorf("the logs do not count what Disconnect dropped:\n%s", s.logs.String())
			}
		})
		t.Run("Handler stuck/"+string(k), func(t *testing.T) {
			g := newGate()
			s := startSession(t, k, liveCase{
				tweak: func(c *xmppconn.Config) { c.Handler = g.handler() },
				then: func(ctx context.Context, p Peer, _ int) {
					for i := range 10 {
						_ = p.Send(ctx, Message(i, 100))
					}
					Drain(ctx, p)
				},
			})
			select { // the stanzas reach the Handler
			case <-g.entered:
			case <-time.After(10 * time.Second):
				t.Fatal("the Handler got no stanza")
			}
			ctx, cancel := context.WithTimeout(context.Background(), disconnectDeadline)
			// The Handler is let go after the bound in any case, so that a
			// Disconnect that waits for it ends and the test can report it.
			watchdog := time.AfterFunc(disconnectDeadline+slack, g.release)
			start := time.Now()
			_ = s.Disconnect(ctx)
			took := time.Since(start)
			watchdog.Stop()
			cancel()
			if took > disconnectDeadline+slack {
				t.Errorf("Disconnect took %v with a stuck Handler, its context allowed %v", took.Round(time.Millisecond), disconnectDeadline)
			}
			g.release()
			s.finish(time.Second)
		})
		t.Run("server never answers the close/"+string(k), func(t *testing.T) {
			s := startSession(t, k, liveCase{
				bosh: BOSHOptions{Intercept: func(w http.ResponseWriter, r *http.Request, req *BOSHRequest) bool {
					if req.Attrs["type"] != "terminate" {
						return false
					}
					<-r.Context().Done()
					return true
				}},
				then: func(ctx context.Context, p Peer, _ int) {
					if IsBOSH(p) {
						Drain(ctx, p)
					}
					<-ctx.Done() // over WebSocket: nothing read, the <close/> neither
				},
			})
			s.finish(disconnectDeadline)
		})
		t.Run("during a Connect the server stalls/"+string(k), func(t *testing.T) {
			leaks, e := goleakBaseline(), newEnv(t)
			authed := make(chan struct{})
			url, stop := e.serve(k, WebSocketOptions{}, BOSHOptions{}, func(ctx context.Context, p Peer) {
				_, _ = Authenticate(ctx, p, LoginFeatures)
				close(authed)
				<-ctx.Done()
			})
			c := newClient(t, e, url, withPassword, nil)
			s := &session{client: c, t: t, url: url, stop: stop, heap: sampleHeap(50 * time.Millisecond), leaks: leaks}
			connected := make(chan error, 1)
			go func() { connected <- c.Connect(context.Background()) }()
			deadline := time.Now().Add(5 * time.Second)
			for c.State() != events.StateConnecting && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			select { // the server had the <auth/>, and stalls now
			case <-authed:
			case <-time.After(10 * time.Second):
				t.Fatal("the server never got the <auth/>")
			}
			s.finish(disconnectDeadline)
			select {
			case err := <-connected:
				if !errors.Is(err, xmppconn.ErrDisconnected) {
					t.Errorf("Connect interrupted by Disconnect returned %v, want ErrDisconnected", err)
				}
			case <-time.After(time.Second):
				t.Error("Connect did not return after Disconnect")
			}
			if f := c.rec.failures(); len(f) != 0 {
				t.Errorf("%d ConnectionFailed for a Connect the user interrupted", len(f))
			}
			if st := c.State(); st != events.StateClosed {
				t.Errorf("state %v after Disconnect, want CLOSED", st)
			}
		})
	}
}
