package bosh

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestExchangeResendsOnClosedKeepAlive checks that a request sent on a
// kept-alive connection the server has just closed is sent again at once on
// a new connection, without spending one of our tries (and its backoff):
// Prosody closes such connections between two sessions. The failure shows
// reading the answer here, writing the body in TestExchangeResendsStaleWrite.
func TestExchangeResendsOnClosedKeepAlive(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 2 {
			// The second request arrives on the kept-alive connection of
			// the first: drop it without an answer.
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		_, _ = w.Write([]byte("<body xmlns='http://jabber.org/protocol/httpbind'/>"))
	}))
	defer srv.Close()
	hc := srv.Client()
	defer hc.CloseIdleConnections()
	c, err := Dial(testCtx(t), srv.URL, "localhost", &Options{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	defer c.cancel()
	for i := range 2 {
		r := &request{rid: uint64(10 + i), kind: kindPayload, body: payloadBody(uint64(10+i), "sid", 0, nil, false), empty: true}
		if _, err := c.exchange(testCtx(t), r, 1); err != nil {
			t.Fatalf("exchange %d with one try: %v", i+1, err)
		}
	}
	if got := n.Load(); got != 3 {
		t.Errorf("server saw %d requests, want 3 (one resent)", got)
	}
}

// staleOnce is an http.RoundTripper whose first try reports, through
// httptrace, a kept-alive connection and a failed write, as net/http does
// when the server closed the connection as it was taken.
type staleOnce struct {
	next  http.RoundTripper
	tries atomic.Int32
	fail  bool // reports a new connection instead: not stale
}

func (s *staleOnce) RoundTrip(req *http.Request) (*http.Response, error) {
	if s.tries.Add(1) > 1 {
		return s.next.RoundTrip(req)
	}
	tr := httptrace.ContextClientTrace(req.Context())
	tr.GotConn(httptrace.GotConnInfo{Reused: !s.fail})
	err := errors.New("write: broken pipe")
	tr.WroteRequest(httptrace.WroteRequestInfo{Err: err})
	if req.Body != nil {
		req.Body.Close()
	}
	return nil, err
}

// TestExchangeResendsStaleWrite checks that a try that failed writing to a
// kept-alive connection is sent again at once, not counted as a try; and
// that the same failure on a new connection is not.
func TestExchangeResendsStaleWrite(t *testing.T) {
	for _, fresh := range []bool{false, true} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("<body xmlns='http://jabber.org/protocol/httpbind'/>"))
		}))
		rt := &staleOnce{next: srv.Client().Transport, fail: fresh}
		c, err := Dial(testCtx(t), srv.URL, "localhost", &Options{HTTPClient: &http.Client{Transport: rt}, Backoff: []time.Duration{time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		c.mu.Lock()
		r := c.newRequestLocked(kindPayload)
		c.mu.Unlock()
		r.body = payloadBody(r.rid, "sid", 0, nil, false)
		_, err = c.exchange(testCtx(t), r, 1)
		switch {
		case !fresh && err != nil:
			t.Errorf("stale kept-alive connection, one try: %v", err)
		case fresh && err == nil:
			t.Error("a failed write on a new connection was resent without counting as a try")
		}
		if !fresh {
			select {
			case <-r.read:
			default:
				t.Error("the resent request, answered, does not count as read")
			}
		}
		c.cancel()
		srv.Client().CloseIdleConnections()
		srv.Close()
	}
}

// TestResendNotOnPooledConnection: when the kept-alive connection of a try
// dies under it, as a cut kills every connection, the request is sent again
// on a new connection, never on another one of the pool, which the same
// fault may have killed: a copy that reaches the server there and dies
// again makes ejabberd 23.01 lose the elements of the answer (see
// keptAliveDied).
func TestResendNotOnPooledConnection(t *testing.T) {
	var (
		mu      sync.Mutex
		seen    = map[string]bool{}
		arrived = make(chan struct{}, 2)
		release = make(chan struct{})
		cut     atomic.Bool
		resent  atomic.Value // the remote address of the resend, and whether it was new
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var rid uint64
		if req, err := parseFakeRequest(raw); err == nil {
			rid = req.RID
		}
		mu.Lock()
		isNew := !seen[r.RemoteAddr]
		seen[r.RemoteAddr] = true
		mu.Unlock()
		switch {
		case rid < 10:
			// Two held together: two connections for the pool.
			arrived <- struct{}{}
			<-release
		case rid == 10 && cut.CompareAndSwap(false, true):
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		case rid == 10:
			resent.Store(isNew)
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		_, _ = w.Write([]byte("<body xmlns='http://jabber.org/protocol/httpbind'/>"))
	}))
	defer srv.Close()
	hc := srv.Client()
	defer hc.CloseIdleConnections()
	c, err := Dial(testCtx(t), srv.URL, "localhost", &Options{HTTPClient: hc, Backoff: []time.Duration{time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.cancel()
	exchange := func(rid uint64) error {
		r := &request{rid: rid, kind: kindPayload, body: payloadBody(rid, "sid", 0, nil, false), empty: true}
		_, err := c.exchange(testCtx(t), r, 1)
		return err
	}
	errs := make(chan error, 2)
	for rid := range uint64(2) {
		go func() { errs <- exchange(rid + 1) }()
	}
	<-arrived
	<-arrived
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// Two idle connections in the pool; the next try takes one and dies.
	if err := exchange(10); err != nil {
		t.Fatalf("exchange with one try: %v", err)
	}
	switch v := resent.Load(); {
	case v == nil:
		t.Fatal("the request was not sent again")
	case !v.(bool):
		t.Error("the request was sent again on a pooled connection, not a new one")
	}
}
