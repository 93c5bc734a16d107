package bosh

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"sync/atomic"
	"testing"
	"time"
)

// TestExchangeResendsOnClosedKeepAlive checks that a request sent on a
// kept-alive connection the server has just closed is sent again at once on
// a new connection, without spending one of our tries (and its backoff):
// Prosody closes such connections between two sessions. net/http resends it
// when the failure shows reading the answer; the Conn when it shows writing
// the body (TestExchangeResendsStaleWrite).
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
