package xmpptest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// Recorder keeps every event a Connection emits, in order.
type Recorder struct {
	mu      sync.Mutex
	evs     []events.Event
	changed chan struct{}
}

// Record returns a Recorder listening to every event of c.
func Record(c *xmppconn.Connection) *Recorder {
	r := &Recorder{changed: make(chan struct{})}
	c.OnAny(r.add)
	return r
}

func (r *Recorder) add(e events.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, e)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// All returns a copy of the events so far.
func (r *Recorder) All() []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]events.Event(nil), r.evs...)
}

// Names renders the events so far with Name.
func (r *Recorder) Names() []string { return NamesOf(r.All()) }

// NamesOf renders evs with Name.
func NamesOf(evs []events.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, Name(e))
	}
	return out
}

// Name renders an event as a short string: the type, and for a state
// change the new state, for a failure the error type.
func Name(e events.Event) string {
	switch v := e.(type) {
	case events.StateChange:
		return "state:" + v.State.String()
	case events.Failed:
		return "failed:" + string(v.Err)
	case events.Established:
		return "established"
	case events.Disconnected:
		return "disconnected"
	}
	return string(e.Type())
}

// Is returns a predicate for WaitFor that matches events of type t.
func Is(t events.Type) func(events.Event) bool {
	return func(e events.Event) bool { return e.Type() == t }
}

// WaitFor blocks until an event satisfies ok and returns it, or fails the
// test after d.
func (r *Recorder) WaitFor(t testing.TB, d time.Duration, what string, ok func(events.Event) bool) events.Event {
	t.Helper()
	return r.WaitForNth(t, d, what, 1, ok)
}

// WaitForNth blocks until n events satisfy ok and returns the nth, or fails
// the test after d. ok must not call the Recorder's methods.
func (r *Recorder) WaitForNth(t testing.TB, d time.Duration, what string, n int, ok func(events.Event) bool) events.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		r.mu.Lock()
		seen := 0
		for _, e := range r.evs {
			if ok(e) {
				if seen++; seen == n {
					r.mu.Unlock()
					return e
				}
			}
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("no %s event within %v; got %v", what, d, NamesOf(r.All()))
			return nil
		}
	}
}

// Failures returns the ConnectionFailed payloads so far.
func (r *Recorder) Failures() []events.Failed {
	var out []events.Failed
	for _, e := range r.All() {
		if f, ok := e.(events.Failed); ok {
			out = append(out, f)
		}
	}
	return out
}

// Flush waits until every event emitted so far has reached the listeners,
// or fails the test after 10 s.
func Flush(t testing.TB, c *xmppconn.Connection) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

// Of returns the events of type typ so far.
func (r *Recorder) Of(typ events.Type) []events.Event {
	var out []events.Event
	for _, e := range r.All() {
		if e.Type() == typ {
			out = append(out, e)
		}
	}
	return out
}

// WaitType waits until n events of type typ came and returns them all, or
// fails the test after 20 s.
func (r *Recorder) WaitType(t testing.TB, typ events.Type, n int) []events.Event {
	t.Helper()
	r.WaitForNth(t, 20*time.Second, string(typ), n, Is(typ))
	return r.Of(typ)
}
