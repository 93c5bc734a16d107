package bosh

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBatching(t *testing.T) {
	// requests='1': the long-poll takes the only slot.
	f := newFakeServer(t, fakeConfig{Requests: 1, Hold: 1}, false)
	c := openFake(t, f, nil)
	mustRead(t, c)
	f.awaitHeld(1)
	var want []string
	for i := range 10 {
		m := fmt.Sprintf("<message xmlns='jabber:client' id='m%d'/>", i)
		want = append(want, m)
		mustWrite(t, c, m)
	}
	if n := len(f.Requests()); n != 2 {
		t.Fatalf("%d requests while the only slot was busy", n)
	}
	f.Release()
	f.awaitReceived(10)
	var batches [][]string
	for _, r := range f.Requests() {
		if len(r.Children) > 0 {
			batches = append(batches, r.Children)
		}
	}
	if diff := cmp.Diff([][]string{want}, batches); diff != "" {
		t.Errorf("requests carrying payloads (-want +got):\n%s", diff)
	}
}

func TestBatchingSplitsLargeQueues(t *testing.T) {
	f := newFakeServer(t, fakeConfig{Requests: 1, Hold: 1}, false)
	c := openFake(t, f, nil)
	mustRead(t, c)
	f.awaitHeld(1)
	big := fmt.Sprintf("<message xmlns='jabber:client'><body>%0*d</body></message>", maxBatch/3, 0)
	for range 3 {
		mustWrite(t, c, big)
	}
	f.Release()
	f.awaitReceived(2)
	f.Release()
	f.awaitReceived(3)
	var sizes []int
	for _, r := range f.Requests() {
		if len(r.Children) > 0 {
			sizes = append(sizes, len(r.Children))
		}
	}
	if diff := cmp.Diff([]int{2, 1}, sizes); diff != "" {
		t.Errorf("elements per request (-want +got):\n%s", diff)
	}
}

func TestRequestsLimit(t *testing.T) {
	tests := []struct {
		name     string
		cfg      fakeConfig
		hold     int
		wantMax  int
		wantIdle int
	}{
		{name: "requests 2 hold 1", cfg: fakeConfig{Requests: 2, Hold: 1}, wantMax: 2, wantIdle: 1},
		{name: "requests 3 hold 2", cfg: fakeConfig{Requests: 3, Hold: 2}, hold: 2, wantMax: 3, wantIdle: 2},
		{name: "requests 1 hold 1", cfg: fakeConfig{Requests: 1, Hold: 1}, wantMax: 1, wantIdle: 1},
		{name: "no requests limit, hold 1", cfg: fakeConfig{Requests: -1, Hold: 1}, wantMax: 2, wantIdle: 1},
		{name: "requests 5 above hold+1", cfg: fakeConfig{Requests: 5, Hold: 1}, wantMax: 2, wantIdle: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t, tt.cfg, false)
			c := openFake(t, f, func(o *Options) { o.Hold = tt.hold })
			mustRead(t, c)
			f.awaitHeld(tt.wantIdle)

			const n = 40
			var wg sync.WaitGroup
			wg.Add(1)
			var got []string
			go func() {
				defer wg.Done()
				for range n {
					e, err := c.ReadElement(testCtx(t))
					if err != nil {
						t.Errorf("ReadElement: %v", err)
						return
					}
					got = append(got, string(e))
				}
			}()
			var sent, want []string
			for i := range n {
				m := fmt.Sprintf("<message xmlns='jabber:client' id='m%d'/>", i)
				sent = append(sent, m)
				mustWrite(t, c, m)
				r := fmt.Sprintf("<message xmlns='jabber:client' id='r%d'/>", i)
				want = append(want, r)
				f.Push(r)
			}
			wg.Wait()
			f.awaitReceived(n)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("read (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(sent, f.Received()); diff != "" {
				t.Errorf("server received (-want +got):\n%s", diff)
			}
			if m := f.MaxFlight(); m > tt.wantMax {
				t.Errorf("%d requests open at once, limit %d", m, tt.wantMax)
			}
		})
	}
}

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	changed chan struct{}
}

type fakeTimer struct {
	clk *fakeClock
	at  time.Time
	d   time.Duration
	f   func()
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), changed: make(chan struct{})}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clk: c, at: c.now.Add(d), d: d, f: f}
	c.timers = append(c.timers, t)
	close(c.changed)
	c.changed = make(chan struct{})
	return t
}

func (t *fakeTimer) Stop() bool {
	c := t.clk
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.timers {
		if x == t {
			c.timers = append(c.timers[:i:i], c.timers[i+1:]...)
			return true
		}
	}
	return false
}

// Advance moves the clock and runs the functions of the timers that are
// due, after releasing the clock.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	kept := c.timers[:0]
	for _, t := range c.timers {
		if !t.at.After(c.now) {
			due = append(due, t)
		} else {
			kept = append(kept, t)
		}
	}
	c.timers = kept
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

// awaitTimer waits for a pending timer and returns its duration.
func (c *fakeClock) awaitTimer(t *testing.T) time.Duration {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		if len(c.timers) > 0 {
			d := c.timers[len(c.timers)-1].d
			c.mu.Unlock()
			return d
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatal("no timer armed")
		}
	}
}

func TestPollingPace(t *testing.T) {
	// hold='0': the server answers at once; 'polling' spaces empty polls.
	f := newFakeServer(t, fakeConfig{Hold: -1, Requests: 1, Polling: 5}, false)
	clk := newFakeClock()
	c := dialFake(t, f, nil)
	c.clock = clk
	if _, err := c.Open(testCtx(t), false); err != nil {
		t.Fatal(err)
	}
	mustRead(t, c)
	clk.Advance(pollGrace) // the reader took the features and writes nothing
	f.awaitRequests(2)     // creation, first poll (answered empty)
	if d := clk.awaitTimer(t); d != 5*time.Second {
		t.Errorf("next poll in %v, want 5s", d)
	}
	clk.Advance(4 * time.Second)
	if n := len(f.Requests()); n != 2 {
		t.Fatalf("%d requests before the polling interval", n)
	}
	clk.Advance(time.Second)
	f.awaitRequests(3)

	// Payloads do not wait for the interval.
	clk.awaitTimer(t)
	mustWrite(t, c, msg1)
	f.awaitReceived(1)
	if diff := cmp.Diff([]string{msg1}, f.Received()); diff != "" {
		t.Errorf("received (-want +got):\n%s", diff)
	}
}

// gateFirstPoll is an http.RoundTripper that holds the first try of the
// session's first long-poll, before anything of it is written, until open
// is closed.
type gateFirstPoll struct {
	next http.RoundTripper
	open chan struct{}
	held chan struct{} // closed once that try is held
	once sync.Once
}

func (g *gateFirstPoll) RoundTrip(req *http.Request) (*http.Response, error) {
	data, err := sentBody(req)
	if err != nil {
		return nil, err
	}
	if isPoll(data) {
		first := false
		g.once.Do(func() { first = true })
		if first {
			close(g.held)
			select {
			case <-g.open:
			case <-req.Context().Done():
				return nil, req.Context().Err()
			}
		}
	}
	return g.next.RoundTrip(req)
}

// openGated opens a session on f whose first long-poll gateFirstPoll
// holds, and reads the features.
func openGated(t *testing.T, f *fakeServer, edit func(*Options)) (*Conn, *gateFirstPoll) {
	t.Helper()
	g := &gateFirstPoll{next: f.client.Transport, open: make(chan struct{}), held: make(chan struct{})}
	c := openFake(t, f, func(o *Options) {
		o.HTTPClient = &http.Client{Transport: g}
		if edit != nil {
			edit(o)
		}
	})
	mustRead(t, c) // the features
	return c, g
}

// TestWaitingRequestTakesLaterWrites checks that a request waiting for its
// turn (the long-poll below it is not written yet) takes what is written
// meanwhile: the <auth/> and the element written after it leave in one
// request, behind the poll, instead of the second waiting for a request of
// its own.
func TestWaitingRequestTakesLaterWrites(t *testing.T) {
	f := newFakeServer(t, fakeConfig{StrictOrder: true, Reply: loginReply}, false)
	c, g := openGated(t, f, nil)
	c.mu.Lock()
	c.readerWaitsLocked() // the long-poll leaves, and is held before writing
	c.mu.Unlock()
	select {
	case <-g.held:
	case <-testCtx(t).Done():
		t.Fatal("no long-poll")
	}
	const later = "<r xmlns='urn:xmpp:sm:3'/>"
	mustWrite(t, c, authElem)
	mustWrite(t, c, later)
	close(g.open)
	f.awaitReceived(2)
	reqs := byRID(f.Requests())
	if len(reqs) != 3 || !carries(reqs[2], "<auth") || !carries(reqs[2], later) {
		for _, r := range reqs {
			t.Logf("rid %d: %q", r.RID, r.Children)
		}
		t.Fatal("requests in rid order are not creation, poll, then one with the <auth/> and the element after it")
	}
}

// TestWaitingPollTakesNothing checks that an empty long-poll waiting for its
// turn takes no element written meanwhile: it is there for the server to
// hold, and with elements the server would answer it at once. With hold='2'
// two polls leave together, the first held before writing; the second waits
// for it, and the message goes in a request of its own behind them.
func TestWaitingPollTakesNothing(t *testing.T) {
	f := newFakeServer(t, fakeConfig{Hold: 2, Requests: 3}, false)
	c, g := openGated(t, f, func(o *Options) { o.Hold = 2 })
	c.Negotiated()
	select {
	case <-g.held:
	case <-testCtx(t).Done():
		t.Fatal("no long-poll")
	}
	const msg = "<message xmlns='jabber:client' id='m'/>"
	mustWrite(t, c, msg)
	close(g.open)
	f.awaitReceived(1)
	f.awaitHeld(2)
	reqs := byRID(f.Requests())
	if len(reqs) != 4 || len(reqs[1].Children) != 0 || len(reqs[2].Children) != 0 || !carries(reqs[3], msg) {
		for _, r := range reqs {
			t.Logf("rid %d: %q", r.RID, r.Children)
		}
		t.Fatal("requests in rid order are not creation, two empty polls, then the message")
	}
}
