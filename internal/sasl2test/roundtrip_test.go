package sasl2test_test

import (
	"context"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/faultproxy"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// rtDelay is the one-way latency the proxy adds when counting round trips.
// A connect that takes k round trips cannot take less than k*2*rtDelay; the
// count is the elapsed time divided by the round-trip time, rounded down,
// so it only needs the work of the client and the server during a connect
// to stay under one round trip (500 ms; it is 15-20 ms on an idle machine,
// and was seen near 300 ms under the race detector with every package's
// tests running at once). The cases run in parallel to keep the test short.
const rtDelay = 250 * time.Millisecond

// proxied starts a delaying proxy in front of the server's HTTP port and
// returns it with endpoint url rewritten to go through it.
func proxied(t testing.TB, s *servertest.Server, rawURL string, delay time.Duration) (*faultproxy.Proxy, string) {
	t.Helper()
	p, err := faultproxy.Start("127.0.0.1:" + strconv.Itoa(s.HTTPPort))
	if err != nil {
		t.Fatalf("faultproxy: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	p.Delay(delay)
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.Addr()
	return p, u.String()
}

// loginConfig returns the Config of a login with mech, over url.
func loginConfig(t testing.TB, s *servertest.Server, rawURL, user, pass, mech string, sasl2 bool) (xmppconn.Config, *tap) {
	cfg, tp := config(t, s, rawURL)
	cfg.Credentials = auth.Credentials{Username: user, Password: auth.NewSecret(pass)}
	cfg.Mechanisms = []string{mech}
	cfg.AllowPlain = mech == "PLAIN"
	cfg.SASL2.Disabled = !sasl2
	return cfg, tp
}

// timeConnect connects with cfg and returns the time to CONNECTED (the
// TCP connection to the proxy is local and costs nothing).
func timeConnect(t testing.TB, cfg xmppconn.Config) time.Duration {
	t.Helper()
	c := xmppconn.New(cfg)
	start := time.Now()
	if err := c.Connect(connectCtx(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	d := time.Since(start)
	if err := c.Disconnect(context.Background()); err != nil {
		t.Errorf("Disconnect: %v", err)
	}
	return d
}

// TestRoundTrips counts the round trips to CONNECTED and checks each is
// the protocol minimum. After TCP:
//
//	SASL2 + Bind 2 (XEP-0388/0386), SM enabled inline:
//	  WebSocket SCRAM 4 (upgrade, open, authenticate, response), PLAIN 3
//	  BOSH      SCRAM 3 (session request = open, authenticate, response), PLAIN 2
//	RFC 6120 SASL, restart, bind (Config.SASL2.Disabled), <enable/> not waited for:
//	  WebSocket SCRAM 6 (upgrade, open, auth, response, restart, bind), PLAIN 5
//	  BOSH      SCRAM 5 (session request, auth, response, restart, bind), PLAIN 4
//
// A server without SASL2 (ejabberd 23.01) gets the RFC 6120 counts for
// every row. A resumption with SASL2 takes as many as a login
// (TestResumeRoundTrips).
func TestRoundTrips(t *testing.T) { servertest.Each(t, testRoundTrips) }

// rfc6120Trips is the RFC 6120 count of the table above.
var rfc6120Trips = map[string]int{"ws/SCRAM": 6, "ws/PLAIN": 5, "bosh/SCRAM": 5, "bosh/PLAIN": 4}

func testRoundTrips(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	cases := []struct {
		ep    string
		mech  string
		sasl2 bool
		want  int
	}{
		{"ws", "SCRAM-SHA-1", true, 4},
		{"ws", "SCRAM-SHA-256", true, 4},
		{"ws", "PLAIN", true, 3},
		{"bosh", "SCRAM-SHA-1", true, 3},
		{"bosh", "PLAIN", true, 2},
		{"ws", "SCRAM-SHA-1", false, 6},
		{"ws", "PLAIN", false, 5},
		{"bosh", "SCRAM-SHA-1", false, 5},
		{"bosh", "PLAIN", false, 4},
	}
	for _, tc := range cases {
		path := "sasl"
		if tc.sasl2 {
			path = "sasl2"
		}
		t.Run(tc.ep+"/"+path+"/"+tc.mech, func(t *testing.T) {
			t.Parallel() // leaks are checked once for the package (servertest.Main)
			want := tc.want
			if !s.Has(servertest.SASL2) {
				want = rfc6120Trips[tc.ep+"/"+strings.TrimSuffix(strings.TrimSuffix(tc.mech, "-SHA-1"), "-SHA-256")]
			}
			rawURL := s.WebSocketURL(false)
			if tc.ep == "bosh" {
				rawURL = s.BOSHURL(false)
			}
			p, pu := proxied(t, s, rawURL, rtDelay)
			cfg, _ := loginConfig(t, s, pu, user, pass, tc.mech, tc.sasl2)
			before := p.Flights()
			d := timeConnect(t, cfg)
			got := int(d / (2 * rtDelay))
			t.Logf("%v to CONNECTED = %d round trips of %v (%d client flights, with the close and, on BOSH, empty polls)", d.Round(time.Millisecond), got, 2*rtDelay, p.Flights()-before)
			if got != want {
				t.Errorf("%d round trips to CONNECTED (%v), want %d", got, d, want)
			}
		})
	}
}

// TestResumeRoundTrips: a resumption inline with SASL2 takes as many round
// trips as a login; on other servers, as comebackOf says.
func TestResumeRoundTrips(t *testing.T) { servertest.Each(t, testResumeRoundTrips) }

func testResumeRoundTrips(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	for _, ep := range []string{"ws", "bosh"} {
		t.Run(ep, func(t *testing.T) {
			t.Parallel() // leaks are checked once for the package (servertest.Main)
			want := comebackOf(s, ep)
			rawURL := s.WebSocketURL(false)
			if ep == "bosh" {
				rawURL = s.BOSHURL(false)
			}
			p, pu := proxied(t, s, rawURL, 0)
			cfg, tp := loginConfig(t, s, pu, user, pass, "SCRAM-SHA-1", true)
			cfg.Reconnect.Delay = func(int) time.Duration { return time.Millisecond }
			cfg.Ping.Timeout = 10 * rtDelay
			c := xmppconn.New(cfg)
			defer c.Disconnect(context.Background())
			// Stamp the transitions as they happen, not as listeners see them.
			stamps := make(chan time.Time, 8)
			c.On(events.StateChanged, func(e events.Event) {
				if st := e.(events.StateChange).State; st == events.StateReconnecting || st == events.StateConnected {
					stamps <- time.Now()
				}
			})
			rec := record(c)
			if err := c.Connect(connectCtx(t)); err != nil {
				t.Fatalf("Connect: %v", err)
			}
			<-stamps
			first := c.JID()
			waitSM(t, s, first.String())
			p.Delay(rtDelay)
			if n, err := s.KillSessions(connectCtx(t), first.String(), ""); err != nil || n != 1 {
				t.Fatalf("KillSessions = %d, %v", n, err)
			}
			ev := rec.waitForNth(t, 30*time.Second, "second ConnectionEstablished", 2, func(e events.Event) bool {
				return e.Type() == events.ConnectionEstablished
			})
			from, to := <-stamps, <-stamps
			d := to.Sub(from)
			got := int(d / (2 * rtDelay))
			t.Logf("RECONNECTING to CONNECTED in %v = %d round trips", d.Round(time.Millisecond), got)
			if est := ev.(events.Established); est.Resumed != want.resumed || est.JID != first.String() {
				t.Errorf("back as %+v, want resumed %t as %s", est, want.resumed, first)
			}
			if streams, restarts := tp.count(); streams != want.streams || restarts != want.restarts {
				t.Errorf("%d streams, %d restarts, want %d and %d", streams, restarts, want.streams, want.restarts)
			}
			if want.trips != 0 && got != want.trips {
				t.Errorf("%d round trips to CONNECTED again (%v), want %d", got, d, want.trips)
			}
		})
	}
}

// TestConnectLatency measures the time to CONNECTED through a proxy that
// adds 25 ms each way (50 ms RTT): SASL2 against RFC 6120 SASL, WebSocket
// and BOSH, SCRAM-SHA-1, interleaved, median of 10 each, on each server
// with SASL2. It only runs with XMPPCONN_LATENCY=1 (it takes about 10 s a
// server):
//
//	XMPPCONN_LATENCY=1 go test -run TestConnectLatency -v ./internal/sasl2test/
func TestConnectLatency(t *testing.T) {
	if os.Getenv("XMPPCONN_LATENCY") != "1" {
		t.Skip("set XMPPCONN_LATENCY=1 to measure connect latency at 50 ms RTT")
	}
	servertest.EachWith(t, servertest.SASL2, testConnectLatency)
}

func testConnectLatency(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	const runs = 10
	type variant struct {
		ep    string
		sasl2 bool
	}
	variants := []variant{{"ws", true}, {"ws", false}, {"bosh", true}, {"bosh", false}}
	times := map[variant][]time.Duration{}
	proxies := map[string]string{}
	for _, ep := range []string{"ws", "bosh"} {
		rawURL := s.WebSocketURL(false)
		if ep == "bosh" {
			rawURL = s.BOSHURL(false)
		}
		_, proxies[ep] = proxied(t, s, rawURL, 25*time.Millisecond)
	}
	for range runs {
		for _, v := range variants {
			cfg, _ := loginConfig(t, s, proxies[v.ep], user, pass, "SCRAM-SHA-1", v.sasl2)
			times[v] = append(times[v], timeConnect(t, cfg))
		}
	}
	median := func(ds []time.Duration) time.Duration {
		ds = slices.Clone(ds)
		slices.Sort(ds)
		return (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
	}
	for _, ep := range []string{"ws", "bosh"} {
		m2, m1 := median(times[variant{ep, true}]), median(times[variant{ep, false}])
		t.Logf("%-4s SCRAM-SHA-1 at 50 ms RTT, median of %d: SASL2 %v, SASL %v (%.0f%%)",
			ep, runs, m2.Round(100*time.Microsecond), m1.Round(100*time.Microsecond), 100*float64(m2)/float64(m1))
	}
}
