package events_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/xmppconn/xmppconn/events"
)

// seq is a test event: the n-th event emitted by goroutine g.
type seq struct{ g, n int }

const seqType events.Type = "test.seq"

func (seq) Type() events.Type { return seqType }

// flush flushes e, failing the test if that takes unreasonably long (a hang
// would otherwise only show as the test binary's timeout).
func flush(t *testing.T, e *events.Emitter) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

// TestEmitConcurrentOrder: N goroutines emit numbered events at once; each
// listener gets each goroutine's events in order, none lost or duplicated,
// and deliveries never overlap.
func TestEmitConcurrentOrder(t *testing.T) {
	const goroutines, perG = 8, 2000
	var (
		e        events.Emitter
		inflight atomic.Int32
		overlaps atomic.Int32
	)
	type record struct {
		next  [goroutines]int
		count int
		bad   []string
	}
	var all, typed record // written only on the delivery goroutine
	check := func(r *record) events.Listener {
		return func(ev events.Event) {
			if inflight.Add(1) != 1 {
				overlaps.Add(1)
			}
			defer inflight.Add(-1)
			s := ev.(seq)
			if s.n != r.next[s.g] && len(r.bad) < 10 {
				r.bad = append(r.bad, fmt.Sprintf("goroutine %d: event %d after %d", s.g, s.n, r.next[s.g]-1))
			}
			r.next[s.g] = s.n + 1
			r.count++
		}
	}
	e.OnAny(check(&all))
	e.On(seqType, check(&typed))
	e.On(events.StateChanged, func(events.Event) { t.Error("StateChanged listener called for a seq event") })

	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range goroutines {
		wg.Go(func() {
			<-start
			for n := range perG {
				e.Emit(seq{g, n})
			}
		})
	}
	close(start)
	wg.Wait()
	flush(t, &e)

	if n := overlaps.Load(); n != 0 {
		t.Errorf("%d deliveries overlapped", n)
	}
	for name, r := range map[string]*record{"OnAny": &all, "On": &typed} {
		if r.count != goroutines*perG {
			t.Errorf("%s: %d events delivered, want %d", name, r.count, goroutines*perG)
		}
		for g, next := range r.next {
			if next != perG {
				t.Errorf("%s: goroutine %d: last event %d, want %d", name, g, next-1, perG-1)
			}
		}
		if len(r.bad) > 0 {
			t.Errorf("%s: %v", name, r.bad)
		}
	}
}

// TestEmitOrderSequential: one goroutine's events, of mixed types, arrive in
// emission order, and each listener is called in registration order.
func TestEmitOrderSequential(t *testing.T) {
	var (
		e   events.Emitter
		got []string
	)
	e.On(events.StateChanged, func(ev events.Event) { got = append(got, "state:"+ev.(events.StateChange).State.String()) })
	e.OnAny(func(ev events.Event) { got = append(got, "any:"+ev.Type().String()) })
	e.On(events.ConnectionEstablished, func(ev events.Event) { got = append(got, "established:"+ev.(events.Established).ID) })

	e.Emit(events.StateChange{State: events.StateConnecting})
	e.Emit(events.StateChange{State: events.StateConnected, From: events.StateConnecting})
	e.Emit(events.Established{ID: "r1"})
	e.Emit(nil) // ignored
	flush(t, &e)

	want := []string{
		"state:CONNECTING", "any:connection.stateChanged",
		"state:CONNECTED", "any:connection.stateChanged",
		"any:connection.connectionEstablished", "established:r1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
}

// TestPanickingListener: a listener that panics does not stop the listeners
// after it, nor later events, and OnPanic hears of every panic.
func TestPanickingListener(t *testing.T) {
	type report struct {
		t events.Type
		r any
	}
	var (
		e       events.Emitter
		reports []report
		got     []int
	)
	e.OnPanic = func(ty events.Type, r any) {
		reports = append(reports, report{ty, r})
		panic("OnPanic panics too") // dropped
	}
	e.OnAny(func(ev events.Event) {
		if ev.(seq).n == 1 {
			panic("boom")
		}
	})
	e.On(seqType, func(ev events.Event) {
		if ev.(seq).n == 2 {
			panic(nil)
		}
	})
	e.OnAny(func(ev events.Event) { got = append(got, ev.(seq).n) })

	for n := range 4 {
		e.Emit(seq{0, n})
	}
	flush(t, &e)

	if diff := cmp.Diff([]int{0, 1, 2, 3}, got); diff != "" {
		t.Errorf("last listener got (-want +got):\n%s", diff)
	}
	if len(reports) != 2 {
		t.Fatalf("OnPanic called %d times, want 2: %v", len(reports), reports)
	}
	if reports[0].t != seqType || reports[0].r != "boom" {
		t.Errorf("first report = %+v", reports[0])
	}
	var pn *runtime.PanicNilError
	if err, ok := reports[1].r.(error); !ok || !errors.As(err, &pn) {
		t.Errorf("panic(nil) reported as %v, want *runtime.PanicNilError", reports[1].r)
	}
}

// TestPanicWithoutOnPanic: with OnPanic unset, a panic is still contained.
func TestPanicWithoutOnPanic(t *testing.T) {
	var (
		e   events.Emitter
		got int
	)
	e.OnAny(func(events.Event) { panic("boom") })
	e.OnAny(func(events.Event) { got++ })
	e.Emit(seq{})
	e.Emit(seq{})
	flush(t, &e)
	if got != 2 {
		t.Errorf("second listener got %d events, want 2", got)
	}
}

// TestListenerGoexit: a listener that calls runtime.Goexit is reported and
// later events are still delivered.
func TestListenerGoexit(t *testing.T) {
	var (
		e       events.Emitter
		reports []any
		got     []int
	)
	e.OnPanic = func(_ events.Type, r any) { reports = append(reports, r) }
	e.OnAny(func(ev events.Event) {
		if ev.(seq).n == 0 {
			runtime.Goexit()
		}
	})
	e.OnAny(func(ev events.Event) { got = append(got, ev.(seq).n) })
	e.Emit(seq{0, 0})
	e.Emit(seq{0, 1})
	flush(t, &e)
	if diff := cmp.Diff([]int{1}, got); diff != "" {
		t.Errorf("second listener got (-want +got):\n%s", diff)
	}
	if len(reports) != 1 || reports[0] != events.ErrListenerExited {
		t.Errorf("OnPanic reports = %v, want [ErrListenerExited]", reports)
	}
}

// TestBlockedListenerDoesNotBlockEmit: Emit returns while a listener is parked,
// so delivery is not on the caller's goroutine and the queue has no bound.
func TestBlockedListenerDoesNotBlockEmit(t *testing.T) {
	var (
		e       events.Emitter
		entered = make(chan struct{})
		release = make(chan struct{})
		got     atomic.Int64
	)
	e.OnAny(func(ev events.Event) {
		if ev.(seq).n == 0 {
			close(entered)
			<-release
		}
		got.Add(1)
	})
	e.Emit(seq{0, 0})
	<-entered // the listener is parked on release now
	const more = 10000
	for n := 1; n <= more; n++ {
		e.Emit(seq{0, n})
	}
	// Emit returned every time; a Flush bounded by a done context reports it.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Flush with a parked listener = %v, want context.Canceled", err)
	}
	if n := got.Load(); n != 0 {
		t.Errorf("%d deliveries completed while the listener was parked", n)
	}
	close(release)
	flush(t, &e)
	if n := got.Load(); n != more+1 {
		t.Errorf("%d events delivered, want %d", n, more+1)
	}
}

// TestOffDuringDelivery: a listener removing itself and a later listener
// takes effect at once, even for the event being delivered.
func TestOffDuringDelivery(t *testing.T) {
	var (
		e          events.Emitter
		got        []string
		hA, hB     events.Handle
		offResults []bool
	)
	hA = e.OnAny(func(ev events.Event) {
		got = append(got, "A")
		offResults = append(offResults, e.Off(hB), e.Off(hA), e.Off(hA))
	})
	hB = e.OnAny(func(events.Event) { got = append(got, "B") })
	e.OnAny(func(events.Event) { got = append(got, "C") })

	e.Emit(seq{0, 0})
	e.Emit(seq{0, 1})
	flush(t, &e)

	if diff := cmp.Diff([]string{"A", "C", "C"}, got); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]bool{true, true, false}, offResults); diff != "" {
		t.Errorf("Off results (-want +got):\n%s", diff)
	}
}

func TestOffUnknownHandle(t *testing.T) {
	var e, other events.Emitter
	h := other.OnAny(func(events.Event) {})
	tests := []struct {
		name string
		h    events.Handle
	}{
		{"zero handle", events.Handle{}},
		{"other emitter's handle", h},
		{"nil listener's handle", e.OnAny(nil)},
		{"nil typed listener's handle", e.On(seqType, nil)},
	}
	for _, tt := range tests {
		if e.Off(tt.h) {
			t.Errorf("%s: Off = true", tt.name)
		}
	}
	if !other.Off(h) {
		t.Error("Off of a registered handle = false")
	}
	if h == (events.Handle{}) {
		t.Error("a registered handle equals the zero Handle")
	}
}

// TestListenerReentrant: a listener may Emit, On, Off and Subscribe without
// deadlock; events it emits come after those already queued.
func TestListenerReentrant(t *testing.T) {
	var (
		e    events.Emitter
		got  []string
		once bool
		// The first delivery waits until both seqs are queued, so that
		// the event the listener emits comes after the second.
		queued = make(chan struct{})
	)
	e.On(seqType, func(events.Event) {
		got = append(got, "seq")
		if once {
			return
		}
		once = true
		<-queued
		e.On(events.ConnectionDisconnected, func(events.Event) { got = append(got, "late listener") })
		if !e.Off(e.OnAny(func(events.Event) {})) {
			t.Error("Off inside a listener = false")
		}
		e.Subscribe().Close()
		e.Emit(events.Disconnected{Message: "from listener"})
	})
	e.Emit(seq{0, 0})
	e.Emit(seq{0, 1})
	close(queued)
	flush(t, &e)
	flush(t, &e) // the event emitted by the listener
	if diff := cmp.Diff([]string{"seq", "seq", "late listener"}, got); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
}

func TestFlush(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		var e events.Emitter
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := e.Flush(ctx); err != nil {
			t.Errorf("Flush of an idle Emitter = %v", err)
		}
	})
	t.Run("waits for delivery", func(t *testing.T) {
		var (
			e       events.Emitter
			release = make(chan struct{})
			got     atomic.Int32
		)
		e.OnAny(func(events.Event) { <-release; got.Add(1) })
		for n := range 3 {
			e.Emit(seq{0, n})
		}
		done := make(chan error, 4)
		for range 4 {
			go func() { done <- e.Flush(context.Background()) }()
		}
		close(release)
		for range 4 {
			if err := <-done; err != nil {
				t.Errorf("Flush = %v", err)
			}
		}
		if n := got.Load(); n != 3 {
			t.Errorf("Flush returned after %d deliveries, want 3", n)
		}
	})
	t.Run("only earlier events", func(t *testing.T) {
		var (
			e       events.Emitter
			entered = make(chan struct{}, 1)
			release = make(chan struct{})
		)
		e.OnAny(func(ev events.Event) {
			if ev.(seq).n == 1 {
				entered <- struct{}{}
				<-release // parked on the event emitted after Flush began
			}
		})
		e.Emit(seq{0, 0})
		flush(t, &e)
		e.Emit(seq{0, 1})
		<-entered
		defer close(release)
		// Event 0 was delivered long ago; a new Flush must wait for event 1.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := e.Flush(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Flush = %v, want context.Canceled", err)
		}
	})
}

// TestIdleEmitterHoldsNoGoroutine: once the queue is empty the delivery
// goroutine is gone.
func TestIdleEmitterHoldsNoGoroutine(t *testing.T) {
	var e events.Emitter
	e.OnAny(func(events.Event) {})
	for n := range 100 {
		e.Emit(seq{0, n})
	}
	flush(t, &e)
	goleak.VerifyNone(t)
	e.Emit(seq{0, 100}) // and it starts again
	flush(t, &e)
}

// TestUnheardEvents: an event nobody listens to starts no goroutine, a Flush
// after it returns at once, and a listener added later does not get it; a
// listener for another type does not make it heard.
func TestUnheardEvents(t *testing.T) {
	var e events.Emitter
	e.On("test.other", func(events.Event) { t.Error("a listener for another type got the event") })
	e.Emit(seq{0, 0})
	goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Flush must not need to wait
	if err := e.Flush(ctx); err != nil {
		t.Errorf("Flush after an unheard event: %v", err)
	}
	var got []seq
	e.On(seqType, func(ev events.Event) { got = append(got, ev.(seq)) })
	e.Emit(seq{0, 1})
	flush(t, &e)
	if len(got) != 1 || got[0] != (seq{0, 1}) {
		t.Errorf("delivered %v, want only the event emitted after On", got)
	}
}

// TestSyncFromListener: Sync waits for delivery from any goroutine but the
// delivery goroutine, where a listener calling it returns at once instead
// of waiting for itself.
func TestSyncFromListener(t *testing.T) {
	var e events.Emitter
	inner := make(chan error, 1)
	seen := make(chan struct{})
	e.On(events.ConnectionEstablished, func(events.Event) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		inner <- e.Sync(ctx)
	})
	e.On(events.ConnectionDisconnected, func(events.Event) { close(seen) })
	e.Emit(events.Established{})
	e.Emit(events.Disconnected{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Sync(ctx); err != nil {
		t.Fatalf("Sync from outside: %v", err)
	}
	select {
	case <-seen:
	default:
		t.Error("Sync returned before the last event was delivered")
	}
	if err := <-inner; err != nil {
		t.Errorf("Sync from a listener: %v, want nil at once", err)
	}
}
