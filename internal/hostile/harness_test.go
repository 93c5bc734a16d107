package hostile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// The short test configuration every case derives its bounds from.
const (
	pingTimeout    = 300 * time.Millisecond // Config.Ping.Timeout
	attemptTimeout = 2 * time.Second        // Config.Reconnect.AttemptTimeout

	// stepBound bounds one wait for the server's answer during
	// negotiation (<open/>, features, a SASL step, the bind result).
	stepBound = pingTimeout
	// dialBound bounds the dial, the TLS handshake and the WebSocket
	// upgrade (or the BOSH session creation request).
	dialBound = 2 * pingTimeout
	// slack is what a bound may be overrun by on a loaded 2-core machine
	// under the race detector: the scheduling, the teardown, the events.
	slack = 900 * time.Millisecond
)

// Secrets the servers know and echo. Neither may appear anywhere the
// client shows text: events, errors, logs.
const (
	password = "Hostile-Pa55word-7d1e"
	token    = "hostile-token-4b9f2c"
)

// heapCeiling is the growth of the live heap (see liveHeap; at its peak
// during the case) allowed for one connection with default settings
// (1 MiB element limit, 4 MiB InboundLimit) over WebSocket: the two
// inbound queues InboundLimit bounds (what the reader took, what the
// Handler has not), a few elements of the largest size in flight (the
// frame, the element, a parser's buffer), and room for the runtime's own
// noise. A client that queued what a flood sends passes it within a
// second.
const heapCeiling = 16 << 20

// boshHeapCeiling is heapCeiling over BOSH, which holds more by design:
// the transport's own queue of unread children (twice the element limit),
// the responses already under way when it filled (with this suite's
// server, bodies of boshBatch, each with its children serialized), and
// the fake connection manager's backlog (boshBacklog), in the same
// process: about 6 MiB more, part of which heapCeiling's room covers.
// Measured at most 16.6 MiB in 55 runs of the stuck-Handler flood under
// the race detector (40 of them with a core kept busy); a client whose
// InboundLimit lets the flood in takes more than 24.
const boshHeapCeiling = heapCeiling + 4<<20

// ceiling is the heap ceiling over k.
func ceiling(k kind) uint64 {
	if k == overBOSH {
		return boshHeapCeiling
	}
	return heapCeiling
}

// checkHeap fails t when the live heap grew past k's ceiling.
func checkHeap(t *testing.T, k kind, growth int64) {
	t.Helper()
	if c := ceiling(k); growth > int64(c) {
		t.Errorf("live heap grew by %.1f MiB during the case, ceiling over %s %d MiB", float64(growth)/(1<<20), k, c>>20)
	} else {
		t.Logf("live heap grew by %.1f MiB (ceiling %d MiB)", float64(growth)/(1<<20), c>>20)
	}
}

// kind is a transport the suite runs a case over.
type kind string

const (
	overWebSocket kind = "websocket"
	overBOSH      kind = "bosh"
)

var bothTransports = []kind{overWebSocket, overBOSH}

// loginKind is how the client authenticates.
type loginKind int

const (
	withPassword loginKind = iota // SASL (PLAIN over TLS, or SCRAM) with a password
	withToken                     // Jitsi style: ?token= and SASL ANONYMOUS
)

// env is what a case's server needs: the CA its certificate comes from.
type env struct {
	ca *CA
}

var (
	sharedCA     *CA
	sharedCAOnce sync.Once
)

func newEnv(t *testing.T) *env {
	t.Helper()
	sharedCAOnce.Do(func() {
		ca, err := NewCA()
		if err != nil {
			panic(err)
		}
		sharedCA = ca
	})
	return &env{ca: sharedCA}
}

// serve starts the standard server of kind k running s and returns its
// URL and a function that stops it.
func (e *env) serve(k kind, wsOpts WebSocketOptions, boshOpts BOSHOptions, s Script) (string, func()) {
	switch k {
	case overWebSocket:
		srv := NewWebSocket(e.ca, wsOpts, s)
		return srv.URL, srv.Close
	default:
		srv := NewBOSH(e.ca, boshOpts, s)
		return srv.URL, srv.Close
	}
}

// logBuffer collects the client's logs (JSON lines).
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// recorder keeps every event a Connection emits, in order.
type recorder struct {
	mu  sync.Mutex
	evs []events.Event
}

func (r *recorder) add(e events.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, e)
	r.mu.Unlock()
}

func (r *recorder) all() []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]events.Event(nil), r.evs...)
}

func (r *recorder) failures() []events.Failed {
	var out []events.Failed
	for _, e := range r.all() {
		if f, ok := e.(events.Failed); ok {
			out = append(out, f)
		}
	}
	return out
}

// client is a Connection under test with what it showed.
type client struct {
	*xmppconn.Connection
	rec     *recorder
	logs    *logBuffer
	secrets []string
}

// newClient returns a Connection to url with the short test configuration,
// logging at debug level into a buffer and recording every event.
func newClient(t *testing.T, e *env, url string, login loginKind, tweak func(*xmppconn.Config)) *client {
	t.Helper()
	logs := &logBuffer{}
	cfg := xmppconn.Config{
		URL:         url,
		Domain:      Domain,
		Credentials: auth.Credentials{Username: "alice", Password: auth.NewSecret(password)},
		TLSConfig:   e.ca.ClientConfig(),
		Logger:      slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Ping:        xmppconn.PingConfig{Timeout: pingTimeout},
		Reconnect:   xmppconn.ReconnectConfig{Disabled: true, AttemptTimeout: attemptTimeout},
	}
	if login == withToken {
		cfg.Token = auth.StaticToken(token)
	}
	if tweak != nil {
		tweak(&cfg)
	}
	secrets := []string{cfg.Credentials.Password.Reveal()}
	if cfg.Token != nil {
		secrets = append(secrets, token)
	}
	c := &client{Connection: xmppconn.New(cfg), rec: &recorder{}, logs: logs, secrets: secrets}
	c.OnAny(c.rec.add)
	return c
}

// heapSampler records the peak of the live heap (HeapAlloc right after a
// collection) while a case runs.
type heapSampler struct {
	base    uint64
	started bool // every was called
	mu      sync.Mutex
	peak    uint64
	stop    chan struct{}
	done    chan struct{}
}

// liveHeap collects garbage and returns the bytes of the objects that
// collection found live (the runtime's /gc/heap/live:bytes). Not HeapInuse:
// the spans that hold the objects also count what fragmentation leaves free
// in them, several MiB under the race detector after a flood of 4 KiB
// elements. Not HeapAlloc: read after the collection, it also counts what
// was allocated since, and under a flood that is the garbage of a body or
// two being parsed, up to 10 MiB in a slow moment under the race detector.
// Neither is memory the client keeps.
func liveHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// sampleHeap takes the baseline and samples every interval until Stop.
func sampleHeap(interval time.Duration) *heapSampler {
	h := baseHeap()
	h.every(interval)
	return h
}

// baseHeap takes the baseline; sampling starts with every.
func baseHeap() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	h.base = liveHeap()
	h.peak = h.base
	return h
}

// every samples every interval until Stop. Each sample is a full
// collection: under the race detector one every 50 ms slows everything
// else down enough to matter to a 300 ms bound, so a live session starts
// sampling only once it is up.
func (h *heapSampler) every(interval time.Duration) {
	h.started = true
	go func() {
		defer close(h.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				h.sample()
			}
		}
	}()
}

// sample takes one sample now.
func (h *heapSampler) sample() {
	v := liveHeap()
	h.mu.Lock()
	h.peak = max(h.peak, v)
	h.mu.Unlock()
}

// Stop takes a last sample, stops sampling and returns the peak growth.
func (h *heapSampler) Stop() int64 {
	close(h.stop)
	if h.started {
		<-h.done
	}
	h.sample()
	h.mu.Lock()
	defer h.mu.Unlock()
	return int64(h.peak) - int64(h.base)
}

// attempt is one case of a failed first Connect: a server misbehaves and
// the client must give up within a bound, in order.
type attempt struct {
	name  string
	over  []kind    // transports to run it over; nil: both
	login loginKind // how the client logs in
	// script plays the server on the standard server of each transport,
	// configured by ws and bosh; server replaces the standard server.
	script Script
	ws     WebSocketOptions
	bosh   BOSHOptions
	server func(t *testing.T, e *env, k kind) (url string, stop func())
	tweak  func(*xmppconn.Config)
	// bound is the time Connect may take (plus slack): the time the
	// server's behaviour costs before the stall, plus the step's bound.
	bound time.Duration
	// check makes the case's own assertions.
	check func(t *testing.T, k kind, r *outcome)
}

// outcome is what one attempt showed.
type outcome struct {
	err     error
	elapsed time.Duration
	events  []events.Event
	failed  events.Failed // the ConnectionFailed, when exactly one came
	logs    string
	heap    int64 // peak live heap growth
}

// runAttempts runs every case over each of its transports, one at a time:
// the goroutine and heap checks need the process to themselves.
func runAttempts(t *testing.T, cases []attempt) {
	for _, a := range cases {
		over := a.over
		if over == nil {
			over = bothTransports
		}
		for _, k := range over {
			t.Run(a.name+"/"+string(k), func(t *testing.T) { runAttempt(t, a, k) })
		}
	}
}

// runAttempt runs one case and makes the assertions every case shares:
// Connect fails within the case's bound, with exactly one
// ConnectionFailed, in state FAILED; no secret anywhere; no goroutine left;
// the live heap's growth under heapCeiling.
func runAttempt(t *testing.T, a attempt, k kind) {
	leaks := goleak.IgnoreCurrent()
	e := newEnv(t)
	heap := sampleHeap(50 * time.Millisecond)
	var (
		url  string
		stop func()
	)
	if a.server != nil {
		url, stop = a.server(t, e, k)
	} else {
		url, stop = e.serve(k, a.ws, a.bosh, a.script)
	}
	c := newClient(t, e, url, a.login, a.tweak)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	err := c.Connect(ctx)
	o := &outcome{err: err, elapsed: time.Since(start)}
	_ = c.Flush(ctx)
	o.events = c.rec.all()
	o.heap = heap.Stop()
	state := c.State()
	if derr := c.Disconnect(ctx); derr != nil {
		t.Errorf("Disconnect after the failed Connect: %v", derr)
	}
	stop()
	o.logs = c.logs.String()
	fails := c.rec.failures()
	if len(fails) == 1 {
		o.failed = fails[0]
	}

	if err == nil {
		t.Errorf("Connect succeeded against a hostile server")
	}
	if bound := a.bound + slack; o.elapsed > bound {
		t.Errorf("Connect returned after %v, want within %v (bound %v + slack %v); err %v", o.elapsed.Round(time.Millisecond), bound, a.bound, slack, err)
	}
	if len(fails) != 1 {
		t.Errorf("%d ConnectionFailed events, want exactly 1: %s", len(fails), names(o.events))
	}
	if state != events.StateFailed {
		t.Errorf("state after Connect = %v, want FAILED", state)
	}
	var f events.Failed
	if err != nil && !errors.As(err, &f) {
		t.Errorf("Connect's error %T %v is not the events.Failed it emitted", err, err)
	}
	checkNoSecret(t, c.secrets, err, o.events, o.logs)
	checkHeap(t, k, o.heap)
	if a.check != nil {
		a.check(t, k, o)
	}
	if t.Failed() {
		t.Logf("err: %v; failed: %+v; took %v", err, o.failed, o.elapsed.Round(time.Millisecond))
	}
	c.CloseIdle()
	goleak.VerifyNone(t, leaks)
}

// CloseIdle closes the idle connections of the HTTP client the Connection
// uses, if it keeps one.
func (c *client) CloseIdle() {
	if hc := c.HTTPClient(); hc != nil {
		hc.CloseIdleConnections()
	}
}

// names renders events for a failure message.
func names(evs []events.Event) string {
	var parts []string
	for _, e := range evs {
		switch v := e.(type) {
		case events.StateChange:
			parts = append(parts, "state:"+v.State.String())
		case events.Failed:
			parts = append(parts, "failed:"+string(v.Err))
		default:
			parts = append(parts, string(e.Type()))
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// chain returns err and every error it wraps.
func chain(err error) []error {
	var out []error
	var walk func(error, int)
	walk = func(e error, depth int) {
		if e == nil || depth > 64 {
			return
		}
		out = append(out, e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap(), depth+1)
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x, depth+1)
			}
		}
	}
	walk(err, 0)
	return out
}

// checkNoSecret fails when a secret shows in the error (its text and the
// text of every error it wraps), in an event marshalled to JSON, or in the
// logs.
func checkNoSecret(t *testing.T, secrets []string, err error, evs []events.Event, logs string) {
	t.Helper()
	where := func(what, text string) {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("secret %q shows in %s: %s", s, what, text)
			}
		}
	}
	if err != nil {
		where("the error", err.Error())
		where("the error (%+v)", fmt.Sprintf("%+v", err))
		for i, e := range chain(err)[1:] {
			where(fmt.Sprintf("the wrapped error %d (%T)", i+1, e), e.Error())
		}
	}
	for _, e := range evs {
		b, jerr := json.Marshal(e)
		if jerr != nil {
			t.Errorf("event %s does not marshal: %v", e.Type(), jerr)
			continue
		}
		where("event "+string(e.Type()), string(b))
	}
	where("the logs", logs)
}

// poison is server text that echoes both secrets among other words, as a
// server that copies the request into its error does.
func poison(what string) string {
	return what + " refused for alice (password " + password + ", token " + token + ") on " + Domain
}

// tokenOf returns the token the client sent in the URL, or "".
func tokenOf(p Peer) string { return p.Query().Get("token") }

// waitDone blocks until ctx ends: a server that never answers.
func waitDone(ctx context.Context, _ Peer) { <-ctx.Done() }

// plainStatus answers every handshake or request with status and body.
func plainStatus(status int, body string) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
		return true
	}
}

// count returns the number of events of type typ so far.
func (r *recorder) count(typ events.Type) int {
	n := 0
	for _, e := range r.all() {
		if e.Type() == typ {
			n++
		}
	}
	return n
}

// goleakBaseline returns the goroutines to ignore: those running now.
func goleakBaseline() goleak.Option { return goleak.IgnoreCurrent() }
