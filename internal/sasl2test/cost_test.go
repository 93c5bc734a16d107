//go:build unix

package sasl2test_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/transport/bosh"
	"github.com/xmppconn/xmppconn/transport/websocket"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// cpuTime returns the user+system CPU time this process has used so far
// (the servers run in processes of their own).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestReconnectCost measures, side by side, what a login costs the client
// when it cannot resume: a full SCRAM-SHA-1 login (PBKDF2 with the server's
// 10,000 iterations), the same login with the SCRAM keys cached, and an
// XEP-0484 FAST login with a stored token, and for reference a PLAIN login
// (no cryptography: the floor), and over WebSocket bareLogin, the least a
// Go program does for the same round trips; over WebSocket and BOSH, against
// a Prosody 13 of its own that stores SCRAM keys (internal_hashed) and
// offers FAST. Each variant is one Connection, disconnected and connected
// again, as a bot reconnects; each sample is one Connect, to CONNECTED, and
// client CPU is getrusage of this process over that span. The variants run
// interleaved, the first of each round rotating, and the test reports the
// medians and their ratios to the full login. What a login costs above the
// PLAIN floor is its authentication; the test fails when the cached or FAST
// login keeps more than a quarter of a full login's. It only
// runs with XMPPCONN_RECONNECT_COST set to the number of rounds (60 takes
// about 10 s):
//
//	XMPPCONN_RECONNECT_COST=60 go test -count=1 -run TestReconnectCost -v ./internal/sasl2test/
func TestReconnectCost(t *testing.T) {
	rounds, _ := strconv.Atoi(os.Getenv("XMPPCONN_RECONNECT_COST"))
	if rounds <= 0 {
		t.Skip("set XMPPCONN_RECONNECT_COST=60 (rounds) to measure the client's cost of a reconnection")
	}
	servertest.EachKind(t, servertest.FAST, func(t *testing.T, k servertest.Kind) {
		s := servertest.StartTest(t, k, hashedOptions(k))
		user, pass := s.NewUser(t)
		account := user + "@" + s.Domain

		type variant struct {
			name       string
			mech       string // of the password login
			fast, keys bool
			bare       bool // bareLogin, WebSocket only
		}
		// PLAIN costs the client no cryptography: what is left of a login
		// when authentication costs nothing (the transport, XMPP, the
		// Connection), the floor under FAST and the key cache.
		variants := []variant{
			{"full login", "SCRAM-SHA-1", false, false, false},
			{"key cache", "SCRAM-SHA-1", false, true, false},
			{"FAST", "SCRAM-SHA-1", true, false, false},
			{"PLAIN", "PLAIN", false, false, false},
			// The least any Go program does for the same round trips.
			{"bare", "PLAIN", false, false, true},
		}
		cache := auth.NewSCRAMKeyCache()
		cache.Hold()
		defer cache.Release()
		store := auth.NewMemoryFASTStore()

		for _, ep := range []endpoint{endpoints[0], endpoints[2]} {
			t.Run(ep.name, func(t *testing.T) {
				// One Connection per variant, connected again and again as
				// a bot reconnects.
				conns := make(map[string]*xmppconn.Connection)
				taps := make(map[string]*tap)
				variants := variants
				if ep.bosh {
					variants = slices.DeleteFunc(slices.Clone(variants), func(v variant) bool { return v.bare })
				}
				for _, v := range variants {
					cfg, tp := configFrom(t, s, ep.url(s), account)
					// The transports' own HTTP clients, as a deployment
					// without Config.HTTPClient has them.
					cfg.HTTPClient = nil
					cfg.Dial = defaultClientDial(tp, account)
					cfg.Credentials = auth.Credentials{Username: user, Password: auth.NewSecret(pass)}
					cfg.Mechanisms = []string{v.mech}
					cfg.AllowPlain = v.mech == "PLAIN"
					cfg.SASL2.FAST.Disabled = !v.fast
					cfg.SASL2.FAST.Store = store
					cfg.SCRAMKeys.Disabled = !v.keys
					cfg.SCRAMKeys.Cache = cache
					conns[v.name], taps[v.name] = xmppconn.New(cfg), tp
				}
				connect := func(v variant) (cpu, wall time.Duration) {
					if v.bare {
						start := time.Now()
						cpu := bareLogin(t, ep.url(s), s.Domain, user, pass)
						return cpu, time.Since(start)
					}
					c, tp := conns[v.name], taps[v.name]
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					cpu0, start := cpuTime(), time.Now()
					if err := c.Connect(ctx); err != nil {
						t.Fatalf("%s: Connect: %v", v.name, err)
					}
					cpu, wall = cpuTime()-cpu0, time.Since(start)
					if err := c.Disconnect(context.Background()); err != nil {
						t.Errorf("Disconnect: %v", err)
					}
					streams, _ := tp.count()
					m := tp.mechanisms(streams - 1)
					if want := map[bool]string{true: auth.MechHTNone, false: v.mech}[v.fast]; len(m) != 1 || m[0] != want {
						t.Fatalf("%s: authenticated with %v, want %s", v.name, m, want)
					}
					return cpu, wall
				}
				// Warm up: a token in the store, the keys in the cache,
				// the HTTP connections open.
				cfg, _ := configFrom(t, s, ep.url(s), account)
				cfg.Credentials = auth.Credentials{Username: user, Password: auth.NewSecret(pass)}
				cfg.SASL2.FAST.Store = store
				cfg.SCRAMKeys.Cache = cache
				connectOnce(t, xmppconn.New(cfg))
				for _, v := range variants {
					connect(v)
				}

				cpus := make(map[string][]time.Duration)
				walls := make(map[string][]time.Duration)
				for r := range rounds {
					for i := range variants {
						v := variants[(r+i)%len(variants)]
						cpu, wall := connect(v)
						cpus[v.name] = append(cpus[v.name], cpu)
						walls[v.name] = append(walls[v.name], wall)
					}
				}
				median := func(ds []time.Duration) time.Duration {
					ds = slices.Clone(ds)
					slices.Sort(ds)
					return (ds[(len(ds)-1)/2] + ds[len(ds)/2]) / 2
				}
				base := median(cpus["full login"])
				baseWall := median(walls["full login"])
				floor := median(cpus["PLAIN"])
				for _, v := range variants {
					cpu, wall := median(cpus[v.name]), median(walls[v.name])
					t.Logf("%-4s %-10s CPU to CONNECTED %6.3f ms (%.2f×), wall %6.3f ms (%.2f×), median of %d",
						ep.transport(), v.name, ms(cpu), float64(cpu)/float64(base), ms(wall), float64(wall)/float64(baseWall), rounds)
					// What a login costs above the floor is its
					// authentication: FAST and the key cache must leave at
					// most a quarter of a full login's.
					if (v.fast || v.keys) && 4*(cpu-floor) > base-floor {
						t.Errorf("%s: %v CPU per login above the floor, more than a quarter of a full login's %v", v.name, cpu-floor, base-floor)
					}
				}
				fmt.Fprintln(os.Stderr) // a blank line between transports in -v output
			})
		}
	})
}

// defaultClientDial dials with the transports' default HTTP clients (the
// WebSocket upgrade on a connection of its own, BOSH's quick-ack client),
// naming from in the stream header, recording on tp.
func defaultClientDial(tp *tap, from string) func(ctx context.Context, u, domain string) (transport.Conn, error) {
	return func(ctx context.Context, u, domain string) (transport.Conn, error) {
		var tc transport.Conn
		var err error
		if strings.HasPrefix(u, "ws") {
			tc, err = websocket.Dial(ctx, u, domain, &websocket.Options{From: from})
		} else {
			tc, err = bosh.Dial(ctx, u, domain, &bosh.Options{From: from})
		}
		if err != nil {
			return nil, err
		}
		tp.mu.Lock()
		defer tp.mu.Unlock()
		tp.streams = append(tp.streams, nil)
		return &tappedConn{Conn: tc, tp: tp, i: len(tp.streams) - 1}, nil
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
