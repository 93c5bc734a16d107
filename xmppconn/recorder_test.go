package xmppconn_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// recorder keeps every event a Connection emits, in order.
type recorder struct {
	mu      sync.Mutex
	evs     []events.Event
	changed chan struct{}
}

func record(c *xmppconn.Connection) *recorder {
	r := &recorder{changed: make(chan struct{})}
	c.OnAny(r.add)
	return r
}

func (r *recorder) add(e events.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, e)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// all returns a copy of the events so far.
func (r *recorder) all() []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]events.Event(nil), r.evs...)
}

// names renders the events as short strings: the type, and for a state
// change the new state, for a failure the error type.
func (r *recorder) names() []string { return namesOf(r.all()) }

func namesOf(evs []events.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, name(e))
	}
	return out
}

func name(e events.Event) string {
	switch v := e.(type) {
	case events.StateChange:
		return "state:" + v.State.String()
	case *events.Failed:
		return "failed:" + string(v.Err)
	case events.Established:
		return "established"
	case events.Disconnected:
		return "disconnected"
	}
	return string(e.Type())
}

// waitFor blocks until an event satisfies ok, or fails the test after d.
func (r *recorder) waitFor(t *testing.T, d time.Duration, what string, ok func(events.Event) bool) events.Event {
	t.Helper()
	return r.waitForNth(t, d, what, 1, ok)
}

// waitForNth blocks until n events satisfy ok and returns the nth, or fails
// the test after d. ok must not call the recorder's methods.
func (r *recorder) waitForNth(t *testing.T, d time.Duration, what string, n int, ok func(events.Event) bool) events.Event {
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
			t.Fatalf("no %s event within %v; got %v", what, d, namesOf(r.all()))
			return nil
		}
	}
}

// failures returns the ConnectionFailed payloads.
func (r *recorder) failures() []*events.Failed {
	var out []*events.Failed
	for _, e := range r.all() {
		if f, ok := e.(*events.Failed); ok {
			out = append(out, f)
		}
	}
	return out
}
