package hostile

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// httpStatus checks details.http_status.
func httpStatus(want int) func(t *testing.T, k kind, o *outcome) {
	return func(t *testing.T, k kind, o *outcome) {
		t.Helper()
		if got := o.failed.Details.HTTPStatus; got != want {
			t.Errorf("details.http_status = %d, want %d", got, want)
		}
	}
}

// hintsCA checks that a refused certificate is reported as such, with how
// to trust a private CA.
func hintsCA(t *testing.T, k kind, o *outcome) {
	t.Helper()
	r := o.failed.Reason
	if !strings.Contains(strings.ToLower(r), "certificate") || !strings.Contains(r, "CA") {
		t.Errorf("reason %q does not say the certificate was refused and how to trust a private CA", r)
	}
}

// otherCA returns a server TLS configuration whose certificate comes from
// a CA the client does not trust.
func otherCA(t *testing.T) *CA {
	t.Helper()
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// retrying makes the first Connect retry what may heal, quickly.
func retrying(c *xmppconn.Config) {
	c.Reconnect = xmppconn.ReconnectConfig{RetryConnect: true, Attempts: 3, AttemptTimeout: attemptTimeout,
		Delay: func(int) time.Duration { return 10 * time.Millisecond }}
}

// TestDetails: what a program needs to decide is not lost on the way: the
// HTTP status of a refused upgrade or session request, a refused
// certificate named as such with how to trust a private CA, and final (not
// retried).
func TestDetails(t *testing.T) {
	var conns atomic.Int32
	refuse := func(status int) BOSHOptions {
		return BOSHOptions{Intercept: func(w http.ResponseWriter, r *http.Request, _ *BOSHRequest) bool {
			return plainStatus(status, "<html>no</html>")(w, r)
		}}
	}
	runAttempts(t, []attempt{
		{name: "upgrade answered 200", over: []kind{overWebSocket}, ws: WebSocketOptions{Upgrade: plainStatus(200, "<html>hello</html>")}, bound: dialBound, check: httpStatus(200)},
		{name: "upgrade answered 500", over: []kind{overWebSocket}, ws: WebSocketOptions{Upgrade: plainStatus(500, "oops")}, bound: dialBound, check: httpStatus(500)},
		{name: "upgrade answered 503", over: []kind{overWebSocket}, ws: WebSocketOptions{Upgrade: plainStatus(503, "later")}, bound: dialBound, check: httpStatus(503)},
		{name: "upgrade answered 401", over: []kind{overWebSocket}, ws: WebSocketOptions{Upgrade: plainStatus(401, "who")}, bound: dialBound, check: httpStatus(401)},
		{name: "session request answered 404", over: []kind{overBOSH}, bosh: refuse(404), bound: dialBound, check: httpStatus(404)},
		// A 5xx is tried again (up to 3 tries per request): the attempt's
		// bound applies.
		{name: "session request answered 503", over: []kind{overBOSH}, bosh: refuse(503), bound: attemptTimeout, check: httpStatus(503)},
		{
			name: "certificate from an unknown CA",
			ws:   WebSocketOptions{TLS: otherCA(t).ServerConfig()},
			bosh: BOSHOptions{TLS: otherCA(t).ServerConfig()},
			script: func(ctx context.Context, p Peer) {
				t.Error("a client that refused the certificate reached the script")
			},
			bound: dialBound,
			check: hintsCA,
		},
		{
			name: "certificate for another host",
			server: func(t *testing.T, e *env, k kind) (string, func()) {
				cert, err := e.ca.Issue("other.example.org")
				if err != nil {
					t.Fatal(err)
				}
				cfg := e.ca.ServerConfig()
				cfg.Certificates[0] = cert
				return e.serve(k, WebSocketOptions{TLS: cfg}, BOSHOptions{TLS: cfg}, waitDone)
			},
			bound: dialBound,
			check: func(t *testing.T, k kind, o *outcome) {
				if !strings.Contains(o.failed.Reason, "certificate") {
					t.Errorf("reason %q does not say the certificate was refused", o.failed.Reason)
				}
			},
		},
		{
			name:  "certificate refused is final, with retries on",
			tweak: retrying,
			server: func(t *testing.T, e *env, k kind) (string, func()) {
				conns.Store(0)
				other := otherCA(t)
				return rawServer(t, k, false, func(ctx context.Context, c net.Conn) {
					conns.Add(1)
					TLS(other, Silent)(ctx, c)
				})
			},
			bound: dialBound,
			check: func(t *testing.T, k kind, o *outcome) {
				if n := conns.Load(); n != 1 {
					t.Errorf("%d connections, want 1: a refused certificate is final", n)
				}
			},
		},
	})
}

// TestServerErrorAfterLoss: a live session whose every reconnection is
// answered HTTP 503 ends as connection.serverError with the status in its
// details.
func TestServerErrorAfterLoss(t *testing.T) {
	for _, k := range bothTransports {
		t.Run(string(k), func(t *testing.T) {
			var handshakes, creations atomic.Int32
			cut := make(chan struct{}) // closed once the session is up: the server drops it
			lc := liveCase{
				ws: WebSocketOptions{Upgrade: func(w http.ResponseWriter, r *http.Request) bool {
					if handshakes.Add(1) == 1 {
						return false
					}
					return plainStatus(http.StatusServiceUnavailable, "down for maintenance")(w, r)
				}},
				bosh: BOSHOptions{Intercept: func(w http.ResponseWriter, r *http.Request, req *BOSHRequest) bool {
					if req.Attrs["sid"] != "" || creations.Add(1) == 1 {
						return false
					}
					return plainStatus(http.StatusServiceUnavailable, "down for maintenance")(w, r)
				}},
				tweak: func(c *xmppconn.Config) {
					c.Reconnect = xmppconn.ReconnectConfig{Attempts: 2, AttemptTimeout: attemptTimeout,
						Delay: func(int) time.Duration { return 10 * time.Millisecond }}
				},
				then: func(ctx context.Context, p Peer, n int) {
					select {
					case <-cut:
					case <-ctx.Done():
					}
				},
			}
			s := startSession(t, k, lc)
			close(cut)
			s.waitState(20*time.Second, events.StateFailed)
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = s.Flush(fctx)
			cancel()
			fails := s.rec.failures()
			if len(fails) != 1 {
				t.Errorf("%d ConnectionFailed, want 1: %s", len(fails), names(s.rec.all()))
			} else {
				if fails[0].Err != events.ServerError {
					t.Errorf("error type %q, want %q (reason %q)", fails[0].Err, events.ServerError, fails[0].Reason)
				}
				if fails[0].Details.HTTPStatus != http.StatusServiceUnavailable {
					t.Errorf("details.http_status = %d, want 503", fails[0].Details.HTTPStatus)
				}
			}
			s.finish(2 * time.Second)
		})
	}
}
