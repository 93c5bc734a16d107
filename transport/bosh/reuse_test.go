package bosh

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TestExchangeResendsOnClosedKeepAlive checks that a request sent on a
// kept-alive connection the server has just closed is sent again at once on
// a new connection, without spending one of our tries (and its backoff):
// Prosody closes such connections between two sessions.
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
		t.Errorf("server saw %d requests, want 3 (one resent by net/http)", got)
	}
}
