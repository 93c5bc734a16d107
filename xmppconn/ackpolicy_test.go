package xmppconn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/transport"
)

// ackingServer is a transport.Conn that plays a server's stream
// management: it counts the stanzas written to it and answers each <r/>
// with the count at that point, through the outbox's noteAck (as the
// processor would), from a goroutine of its own. At every write it checks
// the outbox's bounds; it runs under the outbox's lock, so it may read the
// outbox's fields.
type ackingServer struct {
	o      *outbox
	acks   chan uint32 // answers to send, in order
	answer bool        // answer <r/>; else never acknowledge

	// Read and written under o.mu (WriteElement runs under it).
	got        []string // stanzas, in order
	requests   int
	maxUnacked int
	maxBytes   int
	overBound  []string // bound violations
}

func newAckingServer(o *outbox, answer bool) *ackingServer {
	s := &ackingServer{o: o, acks: make(chan uint32, 1<<16), answer: answer}
	go func() {
		for h := range s.acks {
			o.noteAck(h)
		}
	}()
	return s
}

func (s *ackingServer) stop() { close(s.acks) }

func (s *ackingServer) WriteElement(_ context.Context, elem []byte) error {
	e := string(elem)
	if e == smRequest {
		s.requests++
		if s.answer {
			s.acks <- uint32(len(s.got))
		}
		return nil
	}
	s.got = append(s.got, e)
	o := s.o
	s.maxUnacked = max(s.maxUnacked, len(o.unacked))
	s.maxBytes = max(s.maxBytes, o.unackedBytes)
	if len(o.unacked) > o.policy.maxUnacked {
		s.overBound = append(s.overBound, fmt.Sprintf("%d stanzas unacknowledged", len(o.unacked)))
	}
	if o.unackedBytes > o.policy.maxBytes && len(o.unacked) > 1 {
		s.overBound = append(s.overBound, fmt.Sprintf("%d bytes unacknowledged", o.unackedBytes))
	}
	return nil
}

func (s *ackingServer) Open(context.Context, bool) (transport.Header, error) {
	return transport.Header{}, nil
}
func (s *ackingServer) ReadElement(context.Context) ([]byte, error) { return nil, transport.ErrClosed }
func (s *ackingServer) Close(context.Context) error                 { return nil }
func (s *ackingServer) Abort()                                      {}
func (s *ackingServer) ConnectionState() (tls.ConnectionState, bool) {
	return tls.ConnectionState{}, false
}
func (s *ackingServer) Status() transport.Status { return transport.Status{} }

// sized returns message i with a body of n bytes.
func sized(prefix string, i, n int) string {
	return fmt.Sprintf("<message xmlns='jabber:client' to='peer@example.net' id='%s%d'><body>%s</body></message>",
		prefix, i, strings.Repeat("x", n))
}

// TestOutboxBurstStaysBounded: a burst far larger than the bounds, from
// Send (which waits for room) and from the Connection's own answers (held
// for room) at once, against a server that acknowledges each <r/>. The
// unacknowledged stanzas never pass MaxUnacked nor MaxUnackedBytes, the
// bound is reached (the test is about the bound), every stanza arrives
// once and in its sender's order, and the acks are asked for about once
// per half bound, not per few stanzas.
func TestOutboxBurstStaysBounded(t *testing.T) {
	const (
		maxUnacked = 50
		maxBytes   = 16 << 10
		burst      = 5000
		answers    = 300
	)
	o := &outbox{}
	o.configure(StreamManagementConfig{MaxUnacked: maxUnacked, MaxUnackedBytes: maxBytes,
		RequestIdle: time.Millisecond, RequestMaxDelay: time.Second}, 1000)
	srv := newAckingServer(o, true)
	defer srv.stop()
	o.fresh(srv, true, "me@example.net/r")
	defer o.reset() // before stop: no write after it

	rng := rand.New(rand.NewPCG(1, 2))
	sizes := make([]int, burst)
	for i := range sizes {
		sizes[i] = 10 + rng.IntN(700)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() {
		for i := range burst {
			if err := o.sendWait(ctx, []byte(sized("s", i, sizes[i]))); err != nil {
				errs <- fmt.Errorf("sendWait %d: %w", i, err)
				return
			}
		}
	})
	wg.Go(func() {
		for i := range answers {
			// The queue (1000) is larger than what this sender holds at once.
			if err := o.send([]byte(sized("a", i, 40))); err != nil {
				errs <- fmt.Errorf("send %d: %w", i, err)
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// The held answers go out as acks make room.
	deadline := time.Now().Add(10 * time.Second)
	for {
		o.mu.Lock()
		n := len(srv.got)
		o.mu.Unlock()
		if n == burst+answers {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d stanzas written", n, burst+answers)
		}
		time.Sleep(time.Millisecond)
	}

	o.mu.Lock()
	defer o.mu.Unlock()
	if len(srv.overBound) > 0 {
		t.Errorf("bounds passed %d times, first: %s", len(srv.overBound), srv.overBound[0])
	}
	if srv.maxUnacked != maxUnacked && srv.maxBytes < maxBytes/2 {
		t.Errorf("the burst never reached a bound (at most %d stanzas, %d bytes): the test shows nothing", srv.maxUnacked, srv.maxBytes)
	}
	next := map[string]int{"s": 0, "a": 0}
	for _, e := range srv.got {
		id := e[strings.Index(e, "id='")+4:]
		id = id[:strings.IndexByte(id, '\'')]
		prefix, n := id[:1], 0
		fmt.Sscan(id[1:], &n)
		if n != next[prefix] {
			t.Fatalf("stanza %s arrived when %s%d was due", id, prefix, next[prefix])
		}
		next[prefix]++
	}
	if next["s"] != burst || next["a"] != answers {
		t.Errorf("got %d sent and %d answers, want %d and %d", next["s"], next["a"], burst, answers)
	}
	// A request per half bound (of stanzas or bytes), a few more where
	// the bytes came first or a pause ended a burst; never one per few
	// stanzas.
	if limit := (burst+answers)/5 + 50; srv.requests > limit {
		t.Errorf("%d <r/> for %d stanzas, want at most %d", srv.requests, burst+answers, limit)
	}
	t.Logf("%d stanzas, %d <r/>, at most %d unacknowledged (%d bytes)", len(srv.got), srv.requests, srv.maxUnacked, srv.maxBytes)
}

// TestOutboxSendWaitBounded: against a server that never acknowledges,
// Send waits at the bound until its context ends (the stanza is not sent),
// and after ackWait it closes the transport and queues the stanza for the
// next stream.
func TestOutboxSendWaitBounded(t *testing.T) {
	newFull := func() (*outbox, *closingWire) {
		o := &outbox{}
		o.configure(testPolicy(4), 10)
		w := &closingWire{closed: make(chan struct{})}
		o.fresh(w, true, "me@example.net/r")
		mustSend(t, o, msg(1), msg(2), msg(3), msg(4))
		return o, w
	}
	t.Run("context", func(t *testing.T) {
		o, w := newFull()
		defer o.reset()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- o.sendWait(ctx, []byte(msg(5))) }()
		waitFor(t, "a sender waiting", func() bool { return o.waiting.Load() == 1 })
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("sendWait = %v, want context.Canceled", err)
		}
		if u, q := o.pending(); u != 4 || q != 0 {
			t.Errorf("pending = %d unacked, %d queued; want 4, 0", u, q)
		}
		// One <r/> per half bound, none more for the waiting: both halves
		// were asked for.
		if got := w.got(); len(got) != 6 || countR(got) != 2 {
			t.Errorf("writes = %q, want the 4 messages and 2 <r/>", got)
		}
	})
	t.Run("ack", func(t *testing.T) {
		o, w := newFull()
		defer o.reset()
		done := make(chan error, 1)
		go func() { done <- o.sendWait(context.Background(), []byte(msg(5))) }()
		waitFor(t, "a sender waiting", func() bool { return o.waiting.Load() == 1 })
		o.noteAck(1)
		if err := <-done; err != nil {
			t.Fatalf("sendWait = %v", err)
		}
		if got := w.got(); got[len(got)-1] != msg(5) {
			t.Errorf("last write = %q, want message 5", got[len(got)-1])
		}
	})
	t.Run("session ended", func(t *testing.T) {
		o, _ := newFull()
		done := make(chan error, 1)
		go func() { done <- o.sendWait(context.Background(), []byte(msg(5))) }()
		waitFor(t, "a sender waiting", func() bool { return o.waiting.Load() == 1 })
		o.reset() // what Disconnect does
		if err := <-done; !errors.Is(err, ErrNotConnected) {
			t.Errorf("sendWait = %v, want ErrNotConnected", err)
		}
		if u, q := o.pending(); u != 0 || q != 0 {
			t.Errorf("pending = %d unacked, %d queued after the end; want none", u, q)
		}
	})
	t.Run("no ack in time", func(t *testing.T) {
		o, w := newFull()
		defer o.reset()
		o.mu.Lock()
		o.policy.wait = 10 * time.Millisecond
		o.mu.Unlock()
		done := make(chan error, 1)
		go func() { done <- o.sendWait(context.Background(), []byte(msg(5))) }()
		select {
		case <-w.closed:
		case <-time.After(10 * time.Second):
			t.Fatal("the transport was not closed")
		}
		o.down() // what the read loop's end does
		if err := <-done; err != nil {
			t.Fatalf("sendWait = %v, want nil (queued)", err)
		}
		if u, q := o.pending(); u != 4 || q != 1 {
			t.Errorf("pending = %d unacked, %d queued; want 4, 1", u, q)
		}
	})
}

// closingWire is a wireRec that reports its Close.
type closingWire struct {
	wireRec
	once   sync.Once
	closed chan struct{}
}

func (w *closingWire) Close(context.Context) error {
	w.once.Do(func() { close(w.closed) })
	return nil
}

// TestOutboxHeldAnswerFlushedByAck: a stanza the Connection sends itself at
// the bound is held, not dropped nor waited for, and goes out as soon as
// an ack makes room, with nobody sending.
func TestOutboxHeldAnswerFlushedByAck(t *testing.T) {
	o, w := liveOutbox(2, 10, true)
	defer o.reset()
	mustSend(t, o, msg(1), msg(2), msg(3))
	if u, q := o.pending(); u != 2 || q != 1 {
		t.Fatalf("pending = %d unacked, %d held; want 2, 1", u, q)
	}
	o.noteAck(2)
	waitFor(t, "the held stanza written", func() bool {
		for _, e := range w.got() {
			if e == msg(3) {
				return true
			}
		}
		return false
	})
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
