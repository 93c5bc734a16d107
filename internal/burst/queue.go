package burst

import "sync"

// Queue is the queue of one server goroutine. The zero value is an empty
// queue without a bound, ready to use.
type Queue[T any] struct {
	mu      sync.Mutex
	idle    *sync.Cond // broadcast when the server ends; made by the first WaitIdle
	items   []entry[T]
	weight  int           // the sum of the weights waiting
	room    chan struct{} // closed when items are taken; made by a waiting Push
	running bool
	stopped bool
}

type entry[T any] struct {
	v T
	w int
}

// Push adds v without a bound and reports whether the caller must start the
// server (a goroutine that calls Next until it returns false): true when
// none runs. After Stop, v is dropped and Push returns false.
func (q *Queue[T]) Push(v T) (start bool) {
	start, _ = q.PushWait(v, 0, 0, nil)
	return start
}

// PushWait adds v, of weight w, to the queue once the weight waiting is
// below max (0: no bound), blocking meanwhile: a server that fills the queue
// faster than it is served slows down to the server's pace. It gives up
// when cancel is closed or the queue is stopped: then queued is false. start
// tells whether the caller must start the server, as for Push.
func (q *Queue[T]) PushWait(v T, w, max int, cancel <-chan struct{}) (start, queued bool) {
	q.mu.Lock()
	for !q.stopped && max > 0 && q.weight >= max && len(q.items) > 0 {
		if q.room == nil {
			q.room = make(chan struct{})
		}
		room := q.room
		q.mu.Unlock()
		select {
		case <-room:
		case <-cancel:
			return false, false
		}
		q.mu.Lock()
	}
	defer q.mu.Unlock()
	if q.stopped {
		return false, false
	}
	q.items = append(q.items, entry[T]{v, w})
	q.weight += w
	if q.running {
		return false, true
	}
	q.running = true
	return true, true
}

// Next returns the next item for the server. When there is none (or the
// queue was stopped) it returns false, and the server must end: the next
// Push asks for a new one.
func (q *Queue[T]) Next() (v T, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 || q.stopped {
		q.running = false
		q.items = nil // the backing array goes with the burst
		if q.idle != nil {
			q.idle.Broadcast()
		}
		return v, false
	}
	e := q.items[0]
	q.items[0] = entry[T]{}
	q.items = q.items[1:]
	q.weight -= e.w
	q.wakeLocked()
	return e.v, true
}

// wakeLocked tells the Pushes that wait that room was made.
func (q *Queue[T]) wakeLocked() {
	if q.room != nil {
		close(q.room)
		q.room = nil
	}
}

// Drop discards the items waiting and returns how many there were; the
// queue stays usable.
func (q *Queue[T]) Drop() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.items)
	q.items, q.weight = nil, 0
	q.wakeLocked()
	return n
}

// Stop drops the waiting items and every later one; a server ends at its
// next call to Next, and the Pushes that wait give up.
func (q *Queue[T]) Stop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stopped = true
	q.items, q.weight = nil, 0
	q.wakeLocked()
}

// WaitIdle blocks until no server runs. It must not be called from the
// server.
func (q *Queue[T]) WaitIdle() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.idle == nil {
		q.idle = sync.NewCond(&q.mu)
	}
	for q.running {
		q.idle.Wait()
	}
}
