package hostile

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// selfRedirect serves a script that redirects every stream back to the
// same server (another path each time), counting the streams.
func selfRedirect(streams *atomic.Int32) func(t *testing.T, e *env, k kind) (string, func()) {
	return func(t *testing.T, e *env, k kind) (string, func()) {
		streams.Store(0)
		var self string
		url, stop := e.serve(k, WebSocketOptions{}, BOSHOptions{}, afterOpen(func(ctx context.Context, p Peer) {
			n := streams.Add(1)
			target := fmt.Sprintf("%s?hop=%d", self, n)
			if IsBOSH(p) {
				EndBOSH(p, "type='terminate' condition='see-other-uri'", "<uri>"+Escape(target)+"</uri>")
				return
			}
			_ = p.Send(ctx, "<close xmlns='"+NSFraming+"' see-other-uri='"+Escape(target)+"'/>")
			<-ctx.Done()
		}))
		self = url
		return url, stop
	}
}

// httpSelfRedirect answers every handshake or session request with a 307
// to the same endpoint, counting them.
func httpSelfRedirect(n *atomic.Int32) func(t *testing.T, e *env, k kind) (string, func()) {
	return func(t *testing.T, e *env, k kind) (string, func()) {
		n.Store(0)
		redirect := func(w http.ResponseWriter, r *http.Request) bool {
			i := n.Add(1)
			http.Redirect(w, r, fmt.Sprintf("%s?hop=%d", r.URL.Path, i), http.StatusTemporaryRedirect)
			return true
		}
		return e.serve(k, WebSocketOptions{Upgrade: redirect}, BOSHOptions{Intercept: func(w http.ResponseWriter, r *http.Request, _ *BOSHRequest) bool {
			return redirect(w, r)
		}}, waitDone)
	}
}

// atMost checks a counter after the case.
func atMost(what string, n *atomic.Int32, max int32) func(t *testing.T, k kind, o *outcome) {
	return func(t *testing.T, k kind, o *outcome) {
		t.Helper()
		if got := n.Load(); got > max {
			t.Errorf("%d %s, want at most %d", got, what, max)
		}
	}
}

// TestNumbers: no number the server chooses is taken without a cap: SCRAM
// iterations, redirects in a row, mechanisms and features by the thousand,
// a JID of any length.
func TestNumbers(t *testing.T) {
	var streams, handshakes atomic.Int32
	iterations := func(i string) Script {
		return scram(func(cn string) string { return string(ServerFirst(cn+"srv", Salt, i)) }, "")
	}
	var mechs []string
	for i := range 30000 {
		mechs = append(mechs, fmt.Sprintf("X-HOSTILE-%d", i))
	}
	runAttempts(t, []attempt{
		{name: "SCRAM iterations 2^31-1", script: iterations("2147483647"), bound: stepBound},
		{name: "SCRAM iterations just above the cap", script: iterations("1048577"), bound: stepBound},
		{name: "SCRAM iterations beyond 64 bits", script: iterations("99999999999999999999999999"), bound: stepBound},
		{name: "see-other-uri without end", server: selfRedirect(&streams), bound: 4 * stepBound,
			check: atMost("streams", &streams, 1+xmppconn.DefaultRedirectHops)},
		{name: "HTTP 307 without end", server: httpSelfRedirect(&handshakes), bound: 4 * dialBound,
			check: atMost("handshakes", &handshakes, 1+xmppconn.DefaultRedirectHops)},
		{name: "30,000 unknown mechanisms", script: func(ctx context.Context, p Peer) {
			_, _ = Authenticate(ctx, p, Features(mechs...))
			<-ctx.Done()
		}, bound: stepBound},
		{name: "30,000 unknown features", script: afterOpen(func(ctx context.Context, p Peer) {
			_ = p.Send(ctx, "<stream:features xmlns:stream='"+NSStream+"'>"+strings.Repeat("<f xmlns='urn:hostile'/>", 30000)+"</stream:features>")
			<-ctx.Done()
		}), bound: stepBound},
		{name: "bind result with a JID of 100 KiB", script: func(ctx context.Context, p Peer) {
			if id, err := LoginToBind(ctx, p, false); err == nil {
				_ = p.Send(ctx, strings.Replace(BindResult(id), "/r1<", "/"+strings.Repeat("r", 100<<10)+"<", 1))
			}
			<-ctx.Done()
		}, bound: stepBound},
	})
}

// TestBOSHNumbers: a connection manager's session parameters beyond every
// range do not make the client open more requests or poll faster than its
// own bounds allow.
func TestBOSHNumbers(t *testing.T) {
	huge := "99999999999999999999999999"
	for _, c := range []struct {
		name     string
		creation map[string]string
		window   time.Duration
		maxReqs  int // requests the server may see in the window
	}{
		// hold and requests beyond range: the client asked for hold 1,
		// so it keeps at most 2 requests open; an idle session keeps one.
		{"every number beyond its range", map[string]string{"requests": huge, "hold": "1000000", "wait": huge,
			"polling": huge, "inactivity": huge, "maxpause": huge}, 1500 * time.Millisecond, 3},
		// hold 0 and polling 0: every poll is answered at once, and the
		// client polls at most once a second.
		{"every poll answered at once", map[string]string{"hold": "0", "polling": "0", "requests": "1"}, 2 * time.Second, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			var srv *BOSHServer
			leaks, e := goleakBaseline(), newEnv(t)
			srv = NewBOSH(e.ca, BOSHOptions{Creation: c.creation}, func(ctx context.Context, p Peer) {
				if Login(ctx, p, false) == nil {
					Drain(ctx, p)
				}
			})
			s := &session{t: t, url: srv.URL, stop: srv.Close, heap: sampleHeap(50 * time.Millisecond), leaks: leaks}
			s.client = newClient(t, e, srv.URL, withPassword, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Connect(ctx); err != nil {
				s.finish(time.Second)
				t.Fatalf("Connect: %v", err)
			}
			before := srv.Requests()
			time.Sleep(c.window) // the client left alone: what does it do?
			if n := srv.Requests() - before; n > c.maxReqs {
				t.Errorf("%d requests in %v of an idle session, want at most %d", n, c.window, c.maxReqs)
			}
			if m := srv.MaxInFlight(); m > 2 {
				t.Errorf("%d requests in flight at once, want at most 2 (hold 1 asked for)", m)
			}
			if st := s.State(); st != events.StateConnected {
				t.Errorf("state %v, want CONNECTED", st)
			}
			s.finish(2 * time.Second)
		})
	}
}

// TestStreamManagementNumbers: an <enabled/> whose max and location are
// beyond reason changes nothing: after a cut, the client resumes (or
// reconnects) at the endpoint it was given, never at the location.
func TestStreamManagementNumbers(t *testing.T) {
	for _, k := range bothTransports {
		t.Run(string(k), func(t *testing.T) {
			var (
				mu     sync.Mutex
				dialed []string
			)
			e := newEnv(t)
			lc := liveCase{
				sm: true,
				tweak: func(c *xmppconn.Config) {
					d := &net.Dialer{}
					c.HTTPClient = &http.Client{Transport: &http.Transport{
						TLSClientConfig: e.ca.ClientConfig(),
						DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
							mu.Lock()
							dialed = append(dialed, addr)
							mu.Unlock()
							return d.DialContext(ctx, network, addr)
						},
					}}
					c.Reconnect = xmppconn.ReconnectConfig{Attempts: 2, AttemptTimeout: attemptTimeout,
						Delay: func(int) time.Duration { return 10 * time.Millisecond }}
				},
				then: func(ctx context.Context, p Peer, n int) {
					if n > 1 {
						Drain(ctx, p)
						return
					}
					for {
						el, err := p.Recv(ctx)
						if err != nil {
							return
						}
						if strings.HasPrefix(el, "<enable") {
							_ = p.Send(ctx, "<enabled xmlns='"+NSSM+"' id='sm1' resume='true' max='18446744073709551616' location='evil.example.net:5222'/>")
							return // the stream is cut
						}
					}
				},
			}
			s := startSession(t, k, lc)
			deadline := time.Now().Add(10 * time.Second)
			for s.rec.count(events.ConnectionEstablished) < 2 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := s.rec.count(events.ConnectionEstablished); n < 2 {
				t.Errorf("%d sessions established, want 2 (the first and its recovery): %s", n, names(s.rec.all()))
			}
			mu.Lock()
			for _, a := range dialed {
				if !strings.HasPrefix(a, "127.0.0.1:") {
					t.Errorf("the client dialled %s", a)
				}
			}
			mu.Unlock()
			s.finish(2 * time.Second)
		})
	}
}
