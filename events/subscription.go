package events

import "sync"

// Subscription receives the events of an Emitter on a channel, for code that
// prefers select to callbacks. Events wait in a queue of the subscription
// without bound: none is dropped, and a slow reader never blocks the Emitter
// or its listeners. A goroutine feeds C only while events are queued.
type Subscription struct {
	// C delivers the events, in order. It is closed by Close.
	C <-chan Event

	e *Emitter
	h Handle

	mu      sync.Mutex
	c       chan Event
	queue   []Event
	running bool // a goroutine feeds c
	closed  bool
	done    chan struct{} // closed by Close
	wg      sync.WaitGroup
}

// Subscribe returns a subscription to the events of the given types, or of
// every type when none is given. It receives every event delivered after
// Subscribe returns. Close it when done.
func (e *Emitter) Subscribe(types ...Type) *Subscription {
	c := make(chan Event)
	s := &Subscription{C: c, e: e, c: c, done: make(chan struct{})}
	var ts []Type
	if len(types) > 0 {
		ts = append([]Type(nil), types...)
	}
	s.h = e.add(&listener{types: ts, fn: s.push})
	return s
}

// push queues ev for C; it runs on the Emitter's goroutine and never blocks.
func (s *Subscription) push(ev Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.queue = append(s.queue, ev)
	if !s.running {
		s.running = true
		s.wg.Add(1)
		go s.feed()
	}
}

// feed sends the queued events on c until the queue is empty or the
// subscription is closed; in the latter case it closes c.
func (s *Subscription) feed() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		if s.closed || len(s.queue) == 0 {
			s.running = false
			if s.closed {
				close(s.c)
			}
			s.queue = nil
			s.mu.Unlock()
			return
		}
		ev := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.mu.Unlock()

		select {
		case s.c <- ev:
		case <-s.done:
		}
	}
}

// Close ends the subscription: it stops listening to the Emitter, drops the
// events not yet received, closes C and returns once its goroutine is gone. It
// may be called more than once, from any goroutine, listeners included.
func (s *Subscription) Close() {
	if s.e == nil {
		return // not made by Subscribe
	}
	s.e.Off(s.h)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return
	}
	s.closed = true
	close(s.done)
	if !s.running {
		close(s.c)
		s.queue = nil
	}
	s.mu.Unlock()
	s.wg.Wait()
}
