package events_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/xmppconn/xmppconn/events"
)

// TestSubscribeSlowReader: nobody reads while many events are emitted and
// flushed; afterwards every one of them arrives, in order.
func TestSubscribeSlowReader(t *testing.T) {
	var e events.Emitter
	sub := e.Subscribe()
	defer sub.Close()
	const n = 10000
	for i := range n {
		e.Emit(seq{0, i})
	}
	flush(t, &e) // returns although nothing was read: the emitter never waits for the reader
	for i := range n {
		ev := <-sub.C
		if s, ok := ev.(seq); !ok || s.n != i {
			t.Fatalf("event %d = %#v, want seq %d", i, ev, i)
		}
	}
	select {
	case ev := <-sub.C:
		t.Errorf("extra event %#v", ev)
	default:
	}
}

func TestSubscribeTypes(t *testing.T) {
	var e events.Emitter
	types := []events.Type{events.StateChanged, events.ConnectionFailed}
	sub := e.Subscribe(types...)
	defer sub.Close()
	types[0] = events.ConnectionEstablished // the subscription keeps its own copy

	e.Emit(events.StateChange{State: events.StateConnecting})
	e.Emit(events.Established{ID: "r"})
	e.Emit(seq{})
	e.Emit(events.Failed{Err: events.OtherError})
	flush(t, &e)

	want := []events.Type{events.StateChanged, events.ConnectionFailed}
	for _, w := range want {
		if got := (<-sub.C).Type(); got != w {
			t.Errorf("got %v, want %v", got, w)
		}
	}
	select {
	case ev := <-sub.C:
		t.Errorf("event %v not subscribed to was received", ev.Type())
	default:
	}
}

func TestSubscriptionClose(t *testing.T) {
	tests := []struct {
		name    string
		pending int // events emitted and not read before Close
	}{
		{"idle", 0},
		{"feeder parked on C", 1},
		{"events queued", 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e events.Emitter
			sub := e.Subscribe()
			for i := range tt.pending {
				e.Emit(seq{0, i})
			}
			flush(t, &e)
			sub.Close()
			if ev, ok := <-sub.C; ok {
				t.Errorf("C delivered %#v after Close, want closed", ev)
			}
			sub.Close() // again: no panic
			e.Emit(seq{0, -1})
			flush(t, &e)
			goleak.VerifyNone(t)
		})
	}
}

// TestSubscriptionCloseWhileReading: a reader ranging over C stops when
// another goroutine closes the subscription.
func TestSubscriptionCloseWhileReading(t *testing.T) {
	var e events.Emitter
	sub := e.Subscribe()
	first := make(chan struct{})
	done := make(chan int)
	go func() {
		n := 0
		for range sub.C {
			if n == 0 {
				close(first)
			}
			n++
		}
		done <- n
	}()
	e.Emit(seq{0, 0})
	<-first
	sub.Close()
	if n := <-done; n < 1 {
		t.Errorf("reader saw %d events", n)
	}
}

// TestSubscriptionCloseInListener: Close may be called from a listener of the
// same Emitter.
func TestSubscriptionCloseInListener(t *testing.T) {
	var e events.Emitter
	sub := e.Subscribe(seqType)
	e.On(events.StateChanged, func(events.Event) { sub.Close() })
	e.Emit(seq{0, 0})
	e.Emit(events.StateChange{})
	flush(t, &e)
	n := 0
	for range sub.C {
		n++
	}
	if n != 0 {
		t.Errorf("%d events received after Close, want 0 (nobody read before it)", n)
	}
}

func TestZeroSubscriptionClose(t *testing.T) {
	var sub events.Subscription
	sub.Close() // not from Subscribe: does nothing, does not panic
}
