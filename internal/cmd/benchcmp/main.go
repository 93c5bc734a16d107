package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/websocket"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

const (
	user     = "bench"
	password = "bench-password"
)

// prosodyDefaults puts back the Prosody defaults that the test harness
// changes and that weigh on the server's cost: the harness sets
// smacks_max_queue_size to 5,000 for the fault tests, and Prosody 0.12
// allocates the whole queue (16 bytes a slot) when a client enables stream
// management, 80 KB per session against 8 KB with the default of 500.
const prosodyDefaults = "smacks_max_queue_size = 500"

func main() {
	n := flag.Int("n", 40, "connects per client and mechanism")
	warmup := flag.Int("warmup", 3, "rounds before measuring (not counted)")
	mechs := flag.String("mech", "SCRAM-SHA-1,PLAIN", "comma-separated SASL mechanisms")
	only := flag.String("only", "", "run only the clients whose name contains this (for profiling)")
	msgs := flag.Int("msgs", 20000, "messages per throughput run (0: skip the throughput family)")
	self := flag.Int("self", 5000, "messages per self-send run (0: skip the self-send family)")
	selfRuns := flag.Int("self-runs", 3, "self-send runs per client")
	idle := flag.Int("idle", 500, "idle sessions per measurement (0: skip the idle family)")
	idleRuns := flag.Int("idle-runs", 2, "idle measurements per client")
	iq := flag.Int("iq", 300, "pings per transport in the IQ family (0: skip it)")
	iqServer := flag.String("iq-server", string(servertest.Prosody12), "server of the IQ family: prosody12, prosody13 or ejabberd")
	countSMFlag := flag.Bool("count-sm", false, "count the stream management elements of xmppconn over WebSocket in the self-send family")
	familyMech := flag.String("family-mech", "PLAIN", "SASL mechanism of the self-send and idle families")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the connect family to this file")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	if *n > 0 {
		err = runConnects(ctx, *n, *warmup, strings.Split(*mechs, ","), *only, *cpuprofile)
	}
	if err == nil && *self > 0 && *selfRuns > 0 {
		err = runSelfSend(ctx, *self, *selfRuns, *familyMech, *only, *countSMFlag)
	}
	if err == nil && *idle > 0 && *idleRuns > 0 {
		err = runIdle(ctx, *idle, *idleRuns, *familyMech, *only)
	}
	if err == nil && *iq > 0 {
		err = runIQ(ctx, *iq, servertest.Kind(*iqServer))
	}
	if err == nil && *msgs > 0 {
		err = runThroughput(ctx, *msgs)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchcmp:", err)
		os.Exit(1)
	}
}

// client connects once to a bound JID and returns how long that took and a
// function that closes the session.
type client struct {
	name    string
	connect connectFunc
}

// sample is one measured connect: the time to the bound JID, the CPU spent
// until then, and the CPU of the whole cycle (connect and close).
type sample struct {
	took, cpu, cycle time.Duration
	bytes, objects   uint64        // heap allocations to the bound JID
	server           time.Duration // Prosody's CPU for the cycle
}

// runConnects is the connect family, on a Prosody of its own.
func runConnects(ctx context.Context, n, warmup int, mechs []string, only, cpuprofile string) error {
	s, err := servertest.Start(ctx, servertest.Prosody12, &servertest.Options{Prosody: servertest.ProsodyOptions{ExtraGlobal: prosodyDefaults}})
	if err != nil {
		return err
	}
	defer s.Stop()
	if err := s.AddUser(ctx, user, password); err != nil {
		return err
	}
	fmt.Printf("benchcmp: Prosody at %s, %d connects per client after %d warm-up rounds, interleaved\n\n",
		s.C2SAddr(), n, warmup)
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	for _, mech := range mechs {
		clients := []client{
			{"xmppconn ws", ourConnect(s.WebSocketURL(false), s.Domain, mech)},
			{"mellium ws", melliumWS(s.WebSocketURL(false), s.Domain, mech)},
			{"mellium tcp", melliumTCP(s.C2SAddr(), s.Domain, mech)},
			{"xmppconn bosh", ourConnect(s.BOSHURL(false), s.Domain, mech)},
			{"xmppconn ws bare", ourBareConnect(s.WebSocketURL(false), s.Domain, mech)},
		}
		if only != "" {
			clients = slices.DeleteFunc(clients, func(c client) bool { return !strings.Contains(c.name, only) })
		}
		res := make([][]sample, len(clients))
		pid := s.PID()
		for round := 0; round < warmup+n; round++ {
			// Rotate who goes first, so that no client always follows the
			// same one (and the server's cleanup of its session).
			for k := range clients {
				i := (round + k) % len(clients)
				c := clients[i]
				cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				s0, err := readServer(pid)
				if err != nil {
					cancel()
					return err
				}
				b0, o0 := heapAllocs()
				before := cpuTime()
				took, closeFn, err := c.connect(cctx)
				bound := cpuTime()
				b1, o1 := heapAllocs()
				if err == nil {
					err = closeFn()
				}
				end := cpuTime()
				cancel()
				if err != nil {
					return fmt.Errorf("%s %s: %w", c.name, mech, err)
				}
				waitServerIdle(pid, 50*time.Millisecond)
				s1, err := readServer(pid)
				if err != nil {
					return err
				}
				if round >= warmup {
					res[i] = append(res[i], sample{took, bound - before, end - before, b1 - b0, o1 - o0, s1.cpu - s0.cpu})
				}
			}
		}
		report(mech, clients, res)
	}
	return nil
}

// report prints one table per mechanism and the ratios of the acceptance.
func report(mech string, clients []client, res [][]sample) {
	fmt.Printf("== %s: time to bound JID (median, p95); client CPU (mean) to bound JID and for connect+close; Prosody CPU (mean) for connect+close\n", mech)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "client\tmedian ms\tp95 ms\tCPU ms to bound\tCPU ms cycle\tKB to bound\tallocs to bound\tProsody CPU ms\t")
	med := make(map[string]float64)
	cpu := make(map[string]float64)
	cyc := make(map[string]float64)
	srv := make(map[string]float64)
	for i, c := range clients {
		m, p, u, y := stats(res[i])
		kb, objs := allocStats(res[i])
		med[c.name], cpu[c.name], cyc[c.name] = m, u, y
		srv[c.name] = serverPerConnect(res[i])
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f\t%.2f\t\n", c.name, m, p, u, y, kb, objs, srv[c.name])
	}
	tw.Flush()
	ratio := func(label, a, b string) {
		if med[a] == 0 || med[b] == 0 {
			return
		}
		fmt.Printf("  %-30s median %.2fx  CPU to bound %.2fx  CPU cycle %.2fx  Prosody CPU %.2fx\n", label,
			med[a]/med[b], cpu[a]/cpu[b], cyc[a]/cyc[b], srv[a]/srv[b])
	}
	ratio("xmppconn ws / mellium ws:", "xmppconn ws", "mellium ws")
	ratio("xmppconn ws / mellium tcp:", "xmppconn ws", "mellium tcp")
	ratio("xmppconn bosh / xmppconn ws:", "xmppconn bosh", "xmppconn ws")
	ratio("xmppconn ws bare / mellium ws:", "xmppconn ws bare", "mellium ws")
	fmt.Println()
}

// allocStats returns the mean heap allocation to the bound JID, in KB and
// objects.
func allocStats(ss []sample) (kb, objects float64) {
	if len(ss) == 0 {
		return 0, 0
	}
	var b, o uint64
	for _, s := range ss {
		b += s.bytes
		o += s.objects
	}
	n := float64(len(ss))
	return float64(b) / 1024 / n, float64(o) / n
}

// serverPerConnect returns Prosody's mean CPU per connect+close, in
// milliseconds.
func serverPerConnect(ss []sample) float64 {
	if len(ss) == 0 {
		return 0
	}
	var sum time.Duration
	for _, s := range ss {
		sum += s.server
	}
	return float64(sum.Microseconds()) / 1000 / float64(len(ss))
}

// stats returns the median and p95 of the connect times and the mean CPU
// to the bound JID and for the cycle, in milliseconds.
func stats(ss []sample) (median, p95, cpu, cycle float64) {
	if len(ss) == 0 {
		return 0, 0, 0, 0
	}
	took := make([]time.Duration, len(ss))
	var sum, sumCycle time.Duration
	for i, s := range ss {
		took[i] = s.took
		sum += s.cpu
		sumCycle += s.cycle
	}
	slices.Sort(took)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	n := float64(len(ss))
	return ms(took[len(took)/2]), ms(took[(len(took)*95+99)/100-1]), ms(sum) / n, ms(sumCycle) / n
}

// connectFunc connects once to a bound JID and returns the time that took
// and a function that closes the session.
type connectFunc = func(ctx context.Context) (time.Duration, func() error, error)

// ourConnect connects with xmppconn to url, with the default HTTP client
// (ws:// and http:// need no CA), and disconnects.
func ourConnect(url, domain, mech string) connectFunc {
	return connectWith(ourConfig(url, domain, mech))
}

// ourConfig is xmppconn's configuration for the benchmark account: its
// defaults, with the one mechanism.
func ourConfig(url, domain, mech string) xmppconn.Config {
	return xmppconn.Config{
		URL:         url,
		Domain:      domain,
		Credentials: auth.Credentials{Username: user, Password: auth.NewSecret(password)},
		Mechanisms:  []string{mech},
		AllowPlain:  mech == "PLAIN",
	}
}

// connectWith connects with xmppconn and cfg, and disconnects.
func connectWith(cfg xmppconn.Config) connectFunc {
	return func(ctx context.Context) (time.Duration, func() error, error) {
		start := time.Now()
		c := xmppconn.New(cfg)
		if err := c.Connect(ctx); err != nil {
			return 0, nil, err
		}
		return time.Since(start), func() error { return c.Disconnect(ctx) }, nil
	}
}

// ourBareConnect is ourConnect doing only what mellium's raw client does:
// no stream management, no pings. It shows what
// those features cost.
func ourBareConnect(url, domain, mech string) connectFunc {
	cfg := ourConfig(url, domain, mech)
	cfg.StreamManagement.Disabled = true
	cfg.Ping.Disabled = true
	return connectWith(cfg)
}

// melliumFeatures returns the stream features of mellium's raw client:
// SASL with the one mechanism, then resource binding.
func melliumFeatures(mech string) ([]xmpp.StreamFeature, error) {
	var m sasl.Mechanism
	switch mech {
	case "SCRAM-SHA-1":
		m = sasl.ScramSha1
	case "SCRAM-SHA-256":
		m = sasl.ScramSha256
	case "PLAIN":
		m = sasl.Plain
	default:
		return nil, fmt.Errorf("no mellium mechanism %q", mech)
	}
	return []xmpp.StreamFeature{xmpp.SASL("", password, m), xmpp.BindResource()}, nil
}

// melliumWS connects with mellium's websocket package to url. The session
// is marked secure as Prosody's consider_websocket_secure does on its side,
// so that mellium's SASL feature (which needs a secure stream) runs.
func melliumWS(url, domain, mech string) connectFunc {
	origin := jid.MustParse(user + "@" + domain)
	return func(ctx context.Context) (time.Duration, func() error, error) {
		features, err := melliumFeatures(mech)
		if err != nil {
			return 0, nil, err
		}
		start := time.Now()
		conn, err := websocket.DialDirect(ctx, "http://"+domain, url)
		if err != nil {
			return 0, nil, err
		}
		neg := websocket.Negotiator(func(*xmpp.Session, *xmpp.StreamConfig) xmpp.StreamConfig {
			return xmpp.StreamConfig{Features: features}
		})
		sess, err := xmpp.NewSession(ctx, origin.Domain(), origin, conn, xmpp.Secure, neg)
		if err != nil {
			conn.Close()
			return 0, nil, err
		}
		return time.Since(start), func() error { return closeMellium(sess, conn) }, nil
	}
}

// melliumTCP connects mellium's raw client over plain TCP c2s to addr
// (Prosody allows SASL without TLS in the harness; the session is marked
// secure for mellium's SASL feature).
func melliumTCP(addr, domain, mech string) connectFunc {
	origin := jid.MustParse(user + "@" + domain)
	return func(ctx context.Context) (time.Duration, func() error, error) {
		features, err := melliumFeatures(mech)
		if err != nil {
			return 0, nil, err
		}
		start := time.Now()
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return 0, nil, err
		}
		neg := xmpp.NewNegotiator(func(*xmpp.Session, *xmpp.StreamConfig) xmpp.StreamConfig {
			return xmpp.StreamConfig{Features: features}
		})
		sess, err := xmpp.NewSession(ctx, origin.Domain(), origin, conn, xmpp.Secure, neg)
		if err != nil {
			conn.Close()
			return 0, nil, err
		}
		return time.Since(start), func() error { return closeMellium(sess, conn) }, nil
	}
}

// closeMellium ends the stream and closes the connection under it.
func closeMellium(sess *xmpp.Session, conn net.Conn) error {
	err := sess.Close()
	return errors.Join(err, conn.Close())
}
