package events

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// Listener receives events from an Emitter, on the Emitter's goroutine.
type Listener func(Event)

// Handle identifies a listener registered with an Emitter, for Off. It is
// comparable; the zero Handle identifies no listener.
type Handle struct {
	e  *Emitter
	id uint64
}

// ErrListenerExited is what an Emitter reports to OnPanic when a listener
// called runtime.Goexit (as t.FailNow does) instead of returning.
var ErrListenerExited = errors.New("events: listener called runtime.Goexit")

// Emitter delivers the events of one connection to listeners: in order, one
// at a time, on a goroutine of its own and never on the goroutine that calls
// Emit. The order is the order in which Emit calls happen, even when many
// goroutines emit at once.
//
// Emit never blocks: events wait in a queue without bound. A slow listener
// delays only later deliveries, never Emit. A panicking listener is recovered
// (and reported to OnPanic if set); the other listeners still get the event,
// and later events are delivered as usual.
//
// The delivery goroutine runs only while events are queued, so an idle Emitter
// holds no goroutine and needs no Close. A listener may call Emit, On, OnAny,
// Off and Subscribe; it must not call Flush, which would wait for its own
// return until ctx ends.
//
// The zero value is ready to use. An Emitter must not be copied after first
// use.
type Emitter struct {
	// OnPanic, if set, is called on the delivery goroutine with the type of
	// the event and the recovered value when a listener panics (or with
	// ErrListenerExited when it calls runtime.Goexit; the listeners after
	// that one miss that event, later events are delivered as usual). Set
	// it before the first Emit.
	OnPanic func(t Type, recovered any)

	mu        sync.Mutex
	listeners []*listener // copied on write: a delivery may hold the old slice
	lastID    uint64
	queue     []queued
	running   bool   // a delivery goroutine exists
	deliverer int64  // the delivery goroutine's id while it runs (Sync)
	emitted   uint64 // events queued so far
	delivered uint64 // events delivered to every listener so far
	flushes   []flush
}

type queued struct {
	ev Event
	t  Type
}

type listener struct {
	id      uint64
	types   []Type // nil: every type
	fn      Listener
	removed atomic.Bool
}

func (l *listener) wants(t Type) bool {
	if l.types == nil {
		return true
	}
	for _, lt := range l.types {
		if lt == t {
			return true
		}
	}
	return false
}

// flush is a Flush waiting for the delivery of the first upTo events.
type flush struct {
	upTo uint64
	done chan struct{}
}

// On registers l for events of type t and returns its handle. The listener
// receives every event of that type delivered after On returns, including
// events emitted earlier and still queued. A nil l registers nothing and
// gives the zero Handle.
func (e *Emitter) On(t Type, l Listener) Handle {
	if l == nil {
		return Handle{}
	}
	return e.add(&listener{types: []Type{t}, fn: l})
}

// OnAny registers l for events of every type and returns its handle, as On
// does.
func (e *Emitter) OnAny(l Listener) Handle {
	if l == nil {
		return Handle{}
	}
	return e.add(&listener{fn: l})
}

func (e *Emitter) add(l *listener) Handle {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lastID++
	l.id = e.lastID
	ls := make([]*listener, len(e.listeners), len(e.listeners)+1)
	copy(ls, e.listeners)
	e.listeners = append(ls, l)
	return Handle{e: e, id: l.id}
}

// Off removes the listener identified by h and reports whether it was
// registered. Called from a listener, it takes effect at once: the removed
// listener is not called again, not even for the event being delivered. Called
// from another goroutine, the listener may still receive the one event being
// delivered at that moment.
func (e *Emitter) Off(h Handle) bool {
	if h.e != e || h.id == 0 {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, l := range e.listeners {
		if l.id == h.id {
			l.removed.Store(true)
			ls := make([]*listener, 0, len(e.listeners)-1)
			ls = append(ls, e.listeners[:i]...)
			e.listeners = append(ls, e.listeners[i+1:]...)
			return true
		}
	}
	return false
}

// Emit queues ev for delivery to the listeners of its type and returns at
// once. A nil ev is ignored.
func (e *Emitter) Emit(ev Event) {
	if ev == nil {
		return
	}
	t := ev.Type()
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.running && !e.wantedLocked(t) {
		// Nobody listens: nothing to deliver and, with the queue empty,
		// nothing for a Flush to wait for. No goroutine is started.
		e.emitted++
		e.delivered++
		return
	}
	e.queue = append(e.queue, queued{ev: ev, t: t})
	e.emitted++
	if !e.running {
		e.running = true
		go e.run()
	}
}

// wantedLocked reports whether a listener takes events of type t. e.mu is
// held.
func (e *Emitter) wantedLocked(t Type) bool {
	for _, l := range e.listeners {
		if !l.removed.Load() && l.wants(t) {
			return true
		}
	}
	return false
}

// Flush blocks until every event emitted before the call has been delivered
// to all listeners (and placed in the queues of all subscriptions), or until
// ctx ends, in which case it returns ctx.Err(). It must not be called from a
// listener.
func (e *Emitter) Flush(ctx context.Context) error {
	e.mu.Lock()
	if e.delivered >= e.emitted {
		e.mu.Unlock()
		return nil
	}
	f := flush{upTo: e.emitted, done: make(chan struct{})}
	e.flushes = append(e.flushes, f)
	e.mu.Unlock()

	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, g := range e.flushes {
		if g.done == f.done {
			e.flushes = append(e.flushes[:i], e.flushes[i+1:]...)
			return ctx.Err()
		}
	}
	return nil // delivered while ctx ended
}

// Sync is Flush for a caller that may be a listener: it waits until every
// event emitted so far has been delivered, unless it runs on the delivery
// goroutine (called from a listener), where it returns nil at once, since
// the listener's own return is what delivery waits for. A Connection's
// Connect and Disconnect use it, so that they return after the listeners
// saw the events they caused, and may still be called from a listener.
func (e *Emitter) Sync(ctx context.Context) error {
	e.mu.Lock()
	onDeliverer := e.running && e.deliverer == goid()
	e.mu.Unlock()
	if onDeliverer {
		return nil
	}
	return e.Flush(ctx)
}

// run delivers queued events until the queue is empty, then exits.
func (e *Emitter) run() {
	e.mu.Lock()
	e.deliverer = goid()
	e.mu.Unlock()
	var (
		cur     Type
		pending bool   // an event was taken from the queue and not yet counted as delivered
		goexit  = true // until run returns normally
	)
	defer func() {
		if !goexit {
			return
		}
		// A listener called runtime.Goexit: count the event, report it and
		// let a new goroutine carry on with the queue.
		e.mu.Lock()
		if pending {
			e.deliveredLocked()
		}
		e.mu.Unlock()
		e.reportPanic(cur, ErrListenerExited)
		go e.run()
	}()

	for {
		e.mu.Lock()
		if pending {
			e.deliveredLocked()
			pending = false
		}
		if len(e.queue) == 0 {
			e.queue = nil
			e.running = false
			e.mu.Unlock()
			goexit = false
			return
		}
		q := e.queue[0]
		e.queue[0] = queued{}
		e.queue = e.queue[1:]
		ls := e.listeners
		pending, cur = true, q.t
		e.mu.Unlock()

		for _, l := range ls {
			if !l.removed.Load() && l.wants(q.t) {
				e.call(l, q)
			}
		}
	}
}

// deliveredLocked counts one more event as delivered and wakes the Flush calls
// it completes. e.mu is held.
func (e *Emitter) deliveredLocked() {
	e.delivered++
	kept := e.flushes[:0]
	for _, f := range e.flushes {
		if f.upTo <= e.delivered {
			close(f.done)
		} else {
			kept = append(kept, f)
		}
	}
	clear(e.flushes[len(kept):])
	e.flushes = kept
}

// call runs one listener, recovering a panic.
func (e *Emitter) call(l *listener, q queued) {
	defer func() {
		if r := recover(); r != nil {
			e.reportPanic(q.t, r)
		}
	}()
	l.fn(q.ev)
}

// reportPanic passes a recovered value to OnPanic; a panic in OnPanic itself
// is dropped.
func (e *Emitter) reportPanic(t Type, r any) {
	if e.OnPanic == nil {
		return
	}
	defer func() { _ = recover() }()
	e.OnPanic(t, r)
}
