package bosh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	authElem    = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>"
	successElem = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"
	bindElem    = "<iq xmlns='jabber:client' type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>"
	boundElem   = "<iq xmlns='jabber:client' type='result' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>anon@example.com/r1</jid></bind></iq>"
)

// loginReply answers SASL and resource binding like an XMPP server.
func loginReply(payload string) []string {
	switch {
	case strings.HasPrefix(payload, "<auth "):
		return []string{successElem}
	case strings.Contains(payload, "id='bind1'"):
		return []string{boundElem}
	}
	return nil
}

// loginBound bounds one login against the strict fake: a few milliseconds
// when requests go out in order; a stall cuts it short anyway.
const loginBound = 5 * time.Second

// strictLogin runs one login against a fresh StrictOrder fake with the
// given ReadJitter: session creation, SASL at once (the client's first
// long-poll and the <auth/> could leave together, the race ejabberd stalls
// on), restart, bind; then, the session up, the reader waits for more (the
// long-poll leaves) and a message follows at once; close. It returns an
// error when the fake stalled or a step failed.
func strictLogin(t *testing.T, jitter time.Duration) error {
	f := newFakeServer(t, fakeConfig{StrictOrder: true, Reply: loginReply, ReadJitter: jitter}, false)
	defer f.close()
	ctx, cancel := context.WithTimeout(context.Background(), loginBound)
	defer cancel()
	go func() {
		select {
		case <-f.Stalled():
			cancel()
		case <-ctx.Done():
		}
	}()
	stalled := func(step string, err error) error {
		if s := f.Stall(); s != "" {
			return fmt.Errorf("stalled at %s: %s", step, s)
		}
		return fmt.Errorf("%s: %w", step, err)
	}

	c, err := Dial(ctx, f.srv.URL+"/http-bind", "example.com", f.options())
	if err != nil {
		return err
	}
	defer func() { _ = c.Close(ctx) }()
	if _, err := c.Open(ctx, false); err != nil {
		return stalled("open", err)
	}
	if err := c.WriteElement(ctx, []byte(authElem)); err != nil {
		return stalled("auth", err)
	}
	want := []string{"<stream:features", successElem}
	for _, w := range want {
		e, err := c.ReadElement(ctx)
		if err != nil {
			return stalled("read "+w, err)
		}
		if !strings.HasPrefix(string(e), w) {
			return fmt.Errorf("read %s, want %s", e, w)
		}
	}
	if _, err := c.Open(ctx, true); err != nil {
		return stalled("restart", err)
	}
	e, err := c.ReadElement(ctx)
	if err != nil {
		return stalled("read bind features", err)
	}
	if !strings.Contains(string(e), "xmpp-bind") {
		return fmt.Errorf("read %s, want bind features", e)
	}
	if err := c.WriteElement(ctx, []byte(bindElem)); err != nil {
		return stalled("bind", err)
	}
	if e, err = c.ReadElement(ctx); err != nil {
		return stalled("read bind result", err)
	}
	if string(e) != boundElem {
		return fmt.Errorf("read %s, want %s", e, boundElem)
	}
	// What a reader blocked in ReadElement does, without the goroutine:
	// the long-poll leaves now, and the message right behind it.
	c.mu.Lock()
	c.readerWaitsLocked()
	c.mu.Unlock()
	if err := c.WriteElement(ctx, []byte(msg1)); err != nil {
		return stalled("message", err)
	}
	f.awaitReceived(1)
	if err := c.Close(ctx); err != nil {
		return stalled("close", err)
	}
	if s := f.Stall(); s != "" {
		return errors.New("stalled: " + s)
	}
	return nil
}

// TestLoginsInRIDOrder runs logins against a connection manager that, like
// ejabberd, answers nothing once a rid reaches the wire before a lower one.
// Right after session creation the client has its first long-poll and the
// SASL <auth/> to send at once: unless the second waits for the first to be
// written, it often gets there first (on the kept-alive connection of the
// creation request, while the first dials a new one).
func TestLoginsInRIDOrder(t *testing.T) {
	const logins = 200
	start := time.Now()
	var failed []string
	for i := range logins {
		if err := strictLogin(t, 0); err != nil {
			failed = append(failed, fmt.Sprintf("login %d: %v", i, err))
		}
	}
	t.Logf("%d logins in %v, %d failed", logins, time.Since(start).Round(time.Millisecond), len(failed))
	if len(failed) > 0 {
		t.Errorf("%d of %d logins failed; the first ones:\n%s", len(failed), logins, strings.Join(failed[:min(len(failed), 5)], "\n"))
	}
}

// TestLoginsReadInRIDOrder runs logins against a connection manager that,
// like ejabberd, stalls once it reads a rid before a lower one, and reads
// each request up to 10 ms after it came, so that two requests sent
// together are read in either order however they were written. During the
// login no two requests leave together (the long-poll waits for the
// reader, and the answer the reader writes goes instead); afterwards a
// message that follows the long-poll at once waits until the poll counts as
// read (readGrace, 20 ms, after it was written).
func TestLoginsReadInRIDOrder(t *testing.T) {
	const logins = 100
	start := time.Now()
	var failed []string
	for i := range logins {
		if err := strictLogin(t, 10*time.Millisecond); err != nil {
			failed = append(failed, fmt.Sprintf("login %d: %v", i, err))
		}
	}
	t.Logf("%d logins in %v, %d failed", logins, time.Since(start).Round(time.Millisecond), len(failed))
	if len(failed) > 0 {
		t.Errorf("%d of %d logins failed; the first ones:\n%s", len(failed), logins, strings.Join(failed[:min(len(failed), 5)], "\n"))
	}
}

// failFirstTry is an http.RoundTripper that fails the first try of the
// requests fail picks before anything is written, and passes the rest on.
type failFirstTry struct {
	next http.RoundTripper
	fail func(body []byte) bool

	mu     sync.Mutex
	seen   map[string]bool
	failed int // tries failed so far
}

// failures returns how many tries it has failed.
func (t *failFirstTry) failures() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

// sentBody returns the body of req, read through GetBody so that req keeps
// its own.
func sentBody(req *http.Request) ([]byte, error) {
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	return io.ReadAll(body)
}

// isPoll reports whether body is a request of the fake's session that
// carries nothing and restarts nothing: a long-poll.
func isPoll(body []byte) bool {
	return bytes.Contains(body, []byte("sid='SID'")) && bytes.HasSuffix(body, []byte("/>")) && !bytes.Contains(body, []byte("restart"))
}

func (t *failFirstTry) RoundTrip(req *http.Request) (*http.Response, error) {
	data, err := sentBody(req)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	first := !t.seen[string(data)]
	t.seen[string(data)] = true
	failing := first && t.fail(data)
	if failing {
		t.failed++
	}
	t.mu.Unlock()
	if failing {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errors.New("refused before writing")
	}
	return t.next.RoundTrip(req)
}

// TestUnwrittenRequestHoldsNext checks that a request whose first try fails
// before it is written keeps the next rid off the wire until a retry of it
// has been written, through its backoff.
func TestUnwrittenRequestHoldsNext(t *testing.T) {
	for i := range 20 {
		f := newFakeServer(t, fakeConfig{StrictOrder: true, Reply: loginReply}, false)
		rt := &failFirstTry{next: f.client.Transport, seen: make(map[string]bool), fail: isPoll}
		c := dialFake(t, f, func(o *Options) {
			o.HTTPClient = &http.Client{Transport: rt}
			o.Backoff = []time.Duration{20 * time.Millisecond}
		})
		if _, err := c.Open(testCtx(t), false); err != nil {
			t.Fatal(err)
		}
		mustRead(t, c) // the features
		// The reader waits for more: the long-poll leaves (its first try
		// fails), and the <auth/> right behind it. The <auth/> is written
		// once the poll's first try has failed: written before, it would
		// go in the poll, which waits for nothing yet has no body.
		c.mu.Lock()
		c.readerWaitsLocked()
		c.mu.Unlock()
		await(t, "the long-poll's first try", func() bool { return rt.failures() > 0 })
		mustWrite(t, c, authElem)
		ctx, cancel := context.WithTimeout(context.Background(), loginBound)
		go func() {
			select {
			case <-f.Stalled():
				cancel()
			case <-ctx.Done():
			}
		}()
		if _, err := c.ReadElement(ctx); err != nil { // the <success/>
			cancel()
			t.Fatalf("run %d: ReadElement: %v (stall: %q)", i, err, f.Stall())
		}
		cancel()
		reqs := byRID(f.Requests())
		if len(reqs) < 3 || carries(reqs[1], "<auth") || !carries(reqs[2], "<auth") {
			t.Fatalf("run %d: requests in rid order are not creation, poll, auth", i)
		}
		_ = c.Close(testCtx(t))
		f.close()
	}
}

// recorderTransport is an http.RoundTripper that reports nothing to
// httptrace: it hands the request to a handler in-process.
type recorderTransport struct{ h http.Handler }

func (t recorderTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}

// TestUntracedRoundTripper checks that a RoundTripper that never reports a
// request written does not hold the next request until the previous one is
// answered: the <auth/> is not stuck behind the long-poll.
func TestUntracedRoundTripper(t *testing.T) {
	f := newFakeServer(t, fakeConfig{Reply: loginReply}, false)
	c := dialFake(t, f, func(o *Options) {
		o.HTTPClient = &http.Client{Transport: recorderTransport{f.srv.Config.Handler}}
	})
	if _, err := c.Open(testCtx(t), false); err != nil {
		t.Fatal(err)
	}
	f.awaitHeld(1)
	mustWrite(t, c, authElem)
	mustRead(t, c) // features
	if got := mustRead(t, c); got != successElem {
		t.Errorf("read %s, want %s", got, successElem)
	}
}

// TestHeldRequestReleasedByNext checks that a request the server holds
// counts as read once the server answers the one below it, empty and early,
// after it was written (hold='1': the server holds no more than one), so
// that a sender under load does not wait readGrace per request. Here
// readGrace is an hour once the session holds its first long-poll: every
// message after the first goes only because the answer to the request
// below it told that it was read.
func TestHeldRequestReleasedByNext(t *testing.T) {
	f := newFakeServer(t, fakeConfig{StrictOrder: true}, false)
	c := openFake(t, f, nil)
	mustRead(t, c) // the features
	c.Negotiated()
	f.awaitHeld(1)
	// The long-poll counts as read readGrace after it was written.
	c.mu.Lock()
	poll := c.pending[c.lastRID]
	c.mu.Unlock()
	select {
	case <-poll.read:
	case <-testCtx(t).Done():
		t.Fatal("the long-poll never counted as read")
	}
	testReadGrace.Store(int64(time.Hour))
	defer testReadGrace.Store(0)

	const n = 10
	for i := range n {
		mustWrite(t, c, fmt.Sprintf("<message xmlns='jabber:client' id='m%d'/>", i))
		f.awaitReceived(i + 1)
	}
	if s := f.Stall(); s != "" {
		t.Fatalf("the server stalled: %s", s)
	}
}
