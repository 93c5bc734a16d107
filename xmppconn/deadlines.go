package xmppconn

import (
	"sync"
	"time"
)

// deadlines ends the waits of a Connection's attempts when their bounds
// run out — the attempt (Config.Reconnect.AttemptTimeout), the dial and
// each wait for the server (steps.go) — with one timer for them all.
//
// A timer per bound would cost a reconnection more CPU than anything it
// decodes: the runtime wakes an idle thread whenever a timer is made or
// moved earlier (runtime.wakeNetPoller), and the thread finds nothing to do
// and sleeps again, a few system calls each time, at every step. Here a
// bound is set and cleared without touching the timer in the usual case:
// the timer is armed at most tick ahead, so the later bounds of the
// attempt fall after it; when it fires it ends what is due and re-arms for
// the earliest bound left, or stays disarmed when none is.
type deadlines struct {
	tick time.Duration // how far ahead the timer is armed at most; 0: no limit

	mu     sync.Mutex
	t      *time.Timer
	armed  time.Time // when t fires; zero: disarmed
	bounds []*bound
}

// bound is one wait's bound, from add.
type bound struct {
	at     time.Time
	expire func()
	d      *deadlines
}

// add calls expire once the bound after runs out, unless the bound is
// removed first.
func (d *deadlines) add(after time.Duration, expire func()) *bound {
	now := time.Now()
	b := &bound{at: now.Add(after), expire: expire, d: d}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.bounds = append(d.bounds, b)
	fire := b.at
	if d.tick > 0 && after > d.tick {
		fire = now.Add(d.tick)
	}
	if d.armed.IsZero() || fire.Before(d.armed) {
		d.arm(now, fire)
	}
	return b
}

// remove clears the bound. It reports false when the bound had run out
// (expire was called or is being called).
func (b *bound) remove() bool {
	d := b.d
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, x := range d.bounds {
		if x == b {
			d.bounds = append(d.bounds[:i], d.bounds[i+1:]...)
			return true
		}
	}
	return false
}

// arm makes the timer fire at fire; d.mu is held.
func (d *deadlines) arm(now, fire time.Time) {
	d.armed = fire
	if d.t == nil {
		d.t = time.AfterFunc(fire.Sub(now), d.fire)
		return
	}
	d.t.Reset(fire.Sub(now))
}

// fire ends the bounds that ran out and re-arms for the earliest left. A
// firing meant for an earlier arming finds nothing due and re-arms.
func (d *deadlines) fire() {
	now := time.Now()
	var due []*bound
	d.mu.Lock()
	left := d.bounds[:0]
	var next time.Time
	for _, b := range d.bounds {
		if !now.Before(b.at) {
			due = append(due, b)
			continue
		}
		left = append(left, b)
		if next.IsZero() || b.at.Before(next) {
			next = b.at
		}
	}
	clear(d.bounds[len(left):])
	d.bounds = left
	d.armed = time.Time{}
	if !next.IsZero() {
		d.arm(now, next)
	}
	d.mu.Unlock()
	for _, b := range due {
		b.expire()
	}
}
