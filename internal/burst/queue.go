package burst

import "sync"

// Queue is the queue of one server goroutine. The zero value is an empty
// queue, ready to use.
type Queue[T any] struct {
	mu      sync.Mutex
	idle    *sync.Cond // broadcast when the server ends; made by the first WaitIdle
	items   []T
	running bool
	stopped bool
}

// Push adds v and reports whether the caller must start the server (a
// goroutine that calls Next until it returns false): true when none runs.
// After Stop, v is dropped and Push returns false.
func (q *Queue[T]) Push(v T) (start bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return false
	}
	q.items = append(q.items, v)
	if q.running {
		return false
	}
	q.running = true
	return true
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
	v = q.items[0]
	var zero T
	q.items[0] = zero
	q.items = q.items[1:]
	return v, true
}

// Stop drops the waiting items and every later one; a server ends at its
// next call to Next.
func (q *Queue[T]) Stop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stopped = true
	q.items = nil
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
