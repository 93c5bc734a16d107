package xmppconn

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestDeadlines: a bound runs out after its time, not before, whatever the
// bounds around it; a removed one never does; remove tells which.
func TestDeadlines(t *testing.T) {
	d := &deadlines{tick: 20 * time.Millisecond}
	start := time.Now()
	type result struct {
		at    time.Duration
		fired atomic.Int32
		when  atomic.Int64
	}
	bounds := []time.Duration{200 * time.Millisecond, 40 * time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond}
	res := make([]*result, len(bounds))
	done := make(chan int, len(bounds))
	var added []*bound
	for i, after := range bounds {
		r := &result{at: after}
		res[i] = r
		added = append(added, d.add(after, func() {
			r.fired.Add(1)
			r.when.Store(int64(time.Since(start)))
			done <- i
		}))
	}
	// The 100 ms bound is removed before it runs out.
	if !added[3].remove() {
		t.Fatal("remove of a pending bound reported it had run out")
	}
	for range 3 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("a bound never ran out")
		}
	}
	for i, r := range res {
		switch {
		case i == 3:
			if r.fired.Load() != 0 {
				t.Errorf("a removed bound ran out")
			}
		case r.fired.Load() != 1:
			t.Errorf("bound %v ran out %d times, want once", r.at, r.fired.Load())
		case time.Duration(r.when.Load()) < r.at:
			t.Errorf("bound %v ran out after %v: early", r.at, time.Duration(r.when.Load()))
		}
	}
	if added[0].remove() {
		t.Errorf("remove of a bound that ran out reported it pending")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.bounds) != 0 || !d.armed.IsZero() {
		t.Errorf("after all bounds: %d left, armed %v; want none, disarmed", len(d.bounds), d.armed)
	}
}

// TestDeadlinesArmOnce: bounds added while the timer is armed for an
// earlier time leave the timer alone (the point of the type).
func TestDeadlinesArmOnce(t *testing.T) {
	d := &deadlines{tick: time.Hour}
	a := d.add(2*time.Hour, func() {})
	armed := d.armed
	b := d.add(3*time.Hour, func() {})
	c := d.add(time.Hour+time.Minute, func() {})
	if d.armed != armed {
		t.Errorf("a later bound moved the timer from %v to %v", armed, d.armed)
	}
	e := d.add(time.Minute, func() {})
	if !d.armed.Before(armed) {
		t.Errorf("an earlier bound left the timer at %v", d.armed)
	}
	for _, x := range []*bound{a, b, c, e} {
		x.remove()
	}
	d.t.Stop()
}
