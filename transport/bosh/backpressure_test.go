package bosh

import (
	"strings"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/transport"
)

// TestLaggingReaderHoldsRequests checks that while the reader lags (what
// came and was not read is past queueBound) no request starts, not even
// one carrying elements, which would let the server answer with more: an
// application answering a flood of IQs would otherwise pull the whole
// flood into memory. The elements go once the reader catches up, or once
// the writer would have to wait too.
func TestLaggingReaderHoldsRequests(t *testing.T) {
	const limit = 4096 // queueBound: 8 KiB
	pad := strings.Repeat("p", 3000)
	elem := func(id string) string {
		return "<message xmlns='jabber:client' id='" + id + "'><body>" + pad + "</body></message>"
	}
	// lag fills the queue of unread elements past the bound.
	lag := func(t *testing.T, f *fakeServer, c *Conn) {
		t.Helper()
		c.Negotiated() // polls wait for no reader
		for i := range 3 {
			f.awaitHeld(1)
			f.Push(elem("in" + string(rune('0'+i))))
		}
		await(t, "the queue past the bound", func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.readqN >= c.queueBound()
		})
	}
	open := func(t *testing.T) (*fakeServer, *Conn) {
		f := newFakeServer(t, fakeConfig{}, false)
		c := openFake(t, f, func(o *Options) { o.Limits = transport.Limits{MaxElementSize: limit} })
		mustRead(t, c) // the features
		return f, c
	}

	t.Run("held until the reader catches up", func(t *testing.T) {
		f, c := open(t)
		lag(t, f, c)
		out := elem("out")
		mustWrite(t, c, out)
		c.mu.Lock()
		queued, flight := len(c.out), c.flight
		c.mu.Unlock()
		// A request starts inline, in WriteElement: had it gone, out
		// would be empty now.
		if queued != 1 || flight != 0 {
			t.Fatalf("after a write with the reader lagging: %d queued, %d requests in flight; want 1 and 0", queued, flight)
		}
		for range 3 {
			mustRead(t, c)
		}
		f.awaitReceived(1)
		if got := f.Received(); len(got) != 1 || got[0] != out {
			t.Errorf("server received %d elements, want the one written", len(got))
		}
	})

	t.Run("sent when the writer would wait", func(t *testing.T) {
		f, c := open(t)
		lag(t, f, c)
		// Three elements take the writer's queue past the bound: the
		// fourth write would wait, so a request goes, and the reader,
		// which reads nothing here, does not hold the writer for ever.
		for i := range 4 {
			mustWrite(t, c, elem("out"+string(rune('0'+i))))
		}
		f.awaitReceived(3)
	})
}

// await waits, up to 10 seconds, until cond holds.
func await(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
