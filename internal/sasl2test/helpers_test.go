package sasl2test_test

import (
	"context"
	"encoding/xml"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"mellium.im/xmlstream"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/transport/bosh"
	"github.com/xmppconn/xmppconn/transport/websocket"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// endpoint is one way of reaching the test server.
type endpoint struct {
	name string
	url  func(*servertest.Server) string
	bosh bool
}

var endpoints = []endpoint{
	{"ws", func(s *servertest.Server) string { return s.WebSocketURL(false) }, false},
	{"wss", func(s *servertest.Server) string { return s.WebSocketURL(true) }, false},
	{"bosh", func(s *servertest.Server) string { return s.BOSHURL(false) }, true},
	{"bosh-https", func(s *servertest.Server) string { return s.BOSHURL(true) }, true},
}

// transport returns "ws" or "bosh".
func (ep endpoint) transport() string {
	if ep.bosh {
		return "bosh"
	}
	return "ws"
}

// noLeaks fails the test if it leaves goroutines behind.
func noLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

func connectCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// tap records what the client writes on every stream it dials, and the
// stream restarts it asks for.
type tap struct {
	mu       sync.Mutex
	streams  [][]string // elements written, per dialled stream
	restarts int
}

// wire returns the elements written on stream i ("" when there is none).
func (tp *tap) wire(i int) string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if i >= len(tp.streams) {
		return ""
	}
	return strings.Join(tp.streams[i], "\n")
}

func (tp *tap) count() (streams, restarts int) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return len(tp.streams), tp.restarts
}

// tappedConn is a transport.Conn whose writes a tap records.
type tappedConn struct {
	transport.Conn
	tp *tap
	i  int
}

func (c *tappedConn) Open(ctx context.Context, restart bool) (transport.Header, error) {
	if restart {
		c.tp.mu.Lock()
		c.tp.restarts++
		c.tp.mu.Unlock()
	}
	return c.Conn.Open(ctx, restart)
}

func (c *tappedConn) WriteElement(ctx context.Context, elem []byte) error {
	c.tp.mu.Lock()
	c.tp.streams[c.i] = append(c.tp.streams[c.i], string(elem))
	c.tp.mu.Unlock()
	return c.Conn.WriteElement(ctx, elem)
}

// config returns a Config for url whose streams go through a tap, with an
// HTTP client of the test's own (idle connections closed at the end).
func config(t testing.TB, s *servertest.Server, rawURL string) (xmppconn.Config, *tap) {
	return configFrom(t, s, rawURL, "")
}

// configFrom is config with from in the stream headers (the client sends
// it by itself over wss:// and https:// only; with Config.Dial the test
// decides).
func configFrom(t testing.TB, s *servertest.Server, rawURL, from string) (xmppconn.Config, *tap) {
	hc := s.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log:\n%s", s.Kind, s.LogTail(120))
		}
	})
	tp := &tap{}
	dial := func(ctx context.Context, u, domain string) (transport.Conn, error) {
		pu, err := url.Parse(u)
		if err != nil {
			return nil, err
		}
		var tc transport.Conn
		if strings.HasPrefix(pu.Scheme, "ws") {
			tc, err = websocket.Dial(ctx, u, domain, &websocket.Options{HTTPClient: hc, From: from})
		} else {
			tc, err = bosh.Dial(ctx, u, domain, &bosh.Options{HTTPClient: hc, From: from})
		}
		if err != nil {
			return nil, err
		}
		tp.mu.Lock()
		defer tp.mu.Unlock()
		tp.streams = append(tp.streams, nil)
		return &tappedConn{Conn: tc, tp: tp, i: len(tp.streams) - 1}, nil
	}
	var logger *slog.Logger
	if os.Getenv("SASL2TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return xmppconn.Config{
		Logger:     logger,
		URL:        rawURL,
		Domain:     s.Domain,
		HTTPClient: hc,
		Dial:       dial,
	}, tp
}

// recorder keeps the events of a connection.
type recorder struct {
	mu  sync.Mutex
	evs []events.Event
	ch  chan struct{} // signalled on each event
}

func record(c *xmppconn.Connection) *recorder {
	r := &recorder{ch: make(chan struct{}, 1)}
	c.OnAny(func(e events.Event) {
		r.mu.Lock()
		r.evs = append(r.evs, e)
		r.mu.Unlock()
		select {
		case r.ch <- struct{}{}:
		default:
		}
	})
	return r
}

func (r *recorder) all() []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]events.Event(nil), r.evs...)
}

func (r *recorder) names() []string {
	var out []string
	for _, e := range r.all() {
		switch e := e.(type) {
		case events.StateChange:
			out = append(out, "state:"+e.State.String())
		case events.Established:
			out = append(out, "established")
		case events.Failed:
			out = append(out, "failed:"+string(e.Err))
		default:
			out = append(out, string(e.Type()))
		}
	}
	return out
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

// waitForNth waits for the n-th event that ok accepts.
func (r *recorder) waitForNth(t *testing.T, d time.Duration, what string, n int, ok func(events.Event) bool) events.Event {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		seen := 0
		for _, e := range r.all() {
			if ok(e) {
				seen++
				if seen == n {
					return e
				}
			}
		}
		select {
		case <-r.ch:
		case <-deadline.C:
			t.Fatalf("no %s within %v: %v", what, d, r.names())
			return nil
		}
	}
}

func flush(t testing.TB, c *xmppconn.Connection) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

// inbox collects the bodies of the messages a connection receives.
type inbox struct {
	mu     sync.Mutex
	bodies []string
	ch     chan struct{}
}

func newInbox() *inbox { return &inbox{ch: make(chan struct{}, 1)} }

func (in *inbox) HandleXMPP(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	if start.Name.Local != "message" {
		return nil
	}
	var msg struct {
		Body string `xml:"body"`
	}
	d := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(start.Copy()), t))
	if err := d.Decode(&msg); err != nil {
		return err
	}
	in.mu.Lock()
	in.bodies = append(in.bodies, msg.Body)
	in.mu.Unlock()
	select {
	case in.ch <- struct{}{}:
	default:
	}
	return nil
}

// waitFor waits until n messages with prefix arrived and returns them.
func (in *inbox) waitFor(t *testing.T, prefix string, n int) []string {
	t.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		in.mu.Lock()
		var got []string
		for _, b := range in.bodies {
			if strings.HasPrefix(b, prefix) {
				got = append(got, b)
			}
		}
		in.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-in.ch:
		case <-deadline.C:
			t.Fatalf("got %d messages %q, want %d", len(got), prefix, n)
			return nil
		}
	}
}
