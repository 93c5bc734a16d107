package burst

import (
	"runtime"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// serve is a server that records what it gets.
func serve(q *Queue[int], got *[]int, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		v, ok := q.Next()
		if !ok {
			return
		}
		*got = append(*got, v)
	}
}

// TestOrderAndOneServer: items come out in order, and Push asks for a
// server only when none runs.
func TestOrderAndOneServer(t *testing.T) {
	defer goleak.VerifyNone(t)
	var q Queue[int]
	var got []int
	var wg sync.WaitGroup
	starts := 0
	// One server at a time: each starts after the one before saw the queue
	// empty (under the queue's lock), so got needs no lock of its own.
	for i := range 1000 {
		if q.Push(i) {
			starts++
			wg.Add(1)
			go serve(&q, &got, &wg)
		}
	}
	wg.Wait()
	q.WaitIdle()
	if len(got) != 1000 {
		t.Fatalf("served %d items, want 1000", len(got))
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("item %d is %d: out of order", i, v)
		}
	}
	if starts < 1 {
		t.Error("no server asked for")
	}
}

// TestServerEndsWhenEmpty: an empty queue ends its server, and the next
// Push asks for a new one.
func TestServerEndsWhenEmpty(t *testing.T) {
	var q Queue[string]
	if !q.Push("a") {
		t.Fatal("first Push did not ask for a server")
	}
	if q.Push("b") {
		t.Error("Push asked for a second server while one runs")
	}
	for _, want := range []string{"a", "b"} {
		if v, ok := q.Next(); !ok || v != want {
			t.Fatalf("Next = %q, %v; want %q", v, ok, want)
		}
	}
	if _, ok := q.Next(); ok {
		t.Fatal("Next on an empty queue returned an item")
	}
	q.WaitIdle() // returns: no server runs
	if !q.Push("c") {
		t.Error("Push after the server ended did not ask for a new one")
	}
}

// TestStop: Stop drops what waits and what comes later; the server ends.
func TestStop(t *testing.T) {
	var q Queue[int]
	q.Push(1)
	q.Push(2)
	q.Stop()
	if _, ok := q.Next(); ok {
		t.Error("Next returned an item after Stop")
	}
	if q.Push(3) {
		t.Error("Push after Stop asked for a server")
	}
}

// TestPushWaitBound: a producer waits while the weight waiting is at the
// bound, goes on once the server took an item, and gives up on cancel or
// Stop; Drop empties the queue and wakes it.
func TestPushWaitBound(t *testing.T) {
	var q Queue[int]
	if start, ok := q.PushWait(1, 10, 10, nil); !start || !ok {
		t.Fatalf("first PushWait = %v, %v", start, ok)
	}
	blocked := make(chan bool, 1)
	go func() {
		_, ok := q.PushWait(2, 10, 10, nil)
		blocked <- ok
	}()
	waitBlocked(t, &q)
	select {
	case <-blocked:
		t.Fatal("PushWait went past the bound")
	default:
	}
	if v, ok := q.Next(); !ok || v != 1 {
		t.Fatalf("Next = %v, %v", v, ok)
	}
	if ok := <-blocked; !ok {
		t.Fatal("PushWait gave up instead of going on")
	}
	cancel := make(chan struct{})
	go func() {
		_, ok := q.PushWait(3, 10, 10, cancel)
		blocked <- ok
	}()
	waitBlocked(t, &q)
	close(cancel)
	if ok := <-blocked; ok {
		t.Error("a cancelled PushWait queued its item")
	}
	go func() {
		_, ok := q.PushWait(4, 10, 10, nil)
		blocked <- ok
	}()
	waitBlocked(t, &q)
	if n := q.Drop(); n != 1 {
		t.Errorf("Drop = %d, want 1", n)
	}
	if ok := <-blocked; !ok {
		t.Error("PushWait after Drop gave up")
	}
	go func() {
		_, ok := q.PushWait(5, 10, 10, nil)
		blocked <- ok
	}()
	waitBlocked(t, &q)
	q.Stop()
	if ok := <-blocked; ok {
		t.Error("PushWait queued after Stop")
	}
}

// waitBlocked waits until a PushWait waits for room (it made q.room).
func waitBlocked(t *testing.T, q *Queue[int]) {
	t.Helper()
	for i := 0; ; i++ {
		q.mu.Lock()
		waiting := q.room != nil
		q.mu.Unlock()
		if waiting {
			return
		}
		if i > 100000 {
			t.Fatal("no PushWait waits")
		}
		runtime.Gosched()
	}
}
