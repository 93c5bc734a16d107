package bosh

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

// creationBody is a session creation response with these attributes.
func creationBody(attrs string) string {
	return "<body sid='SID' " + attrs + " xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh' xmlns:stream='http://etherx.jabber.org/streams'>" + saslFeatures + "</body>"
}

// openBound bounds Open against a server whose numbers are hostile: a
// bounded session opens in milliseconds.
const openBound = 3 * time.Second

// maxTestGoroutines bounds the goroutines an open session adds, server
// side included: a few per request in flight (the Conn's, net/http's two per
// connection, the server's one per connection), and at most 3 in flight.
const maxTestGoroutines = 30

func TestHostileParams(t *testing.T) {
	const minute = time.Minute
	tests := []struct {
		name      string
		attrs     string
		hold      int // Options.Hold
		fakeHold  int // how many requests the fake holds
		want      Params
		malformed bool
	}{
		{name: "huge requests and hold", attrs: "requests='1000000' hold='1000000'", want: Params{Wait: minute, Hold: 1, Requests: 2}},
		{name: "hold above the asked", attrs: "requests='51' hold='50'", want: Params{Wait: minute, Hold: 1, Requests: 2}},
		{name: "beyond 64 bits", attrs: "requests='123456789012345678901234567890' hold='99999999999999999999' wait='99999999999999999999'", want: Params{Wait: minute, Hold: 1, Requests: 2}},
		{name: "huge hold, client asked for more than the cap", attrs: "requests='1000000' hold='1000000'", hold: 1000, fakeHold: 2, want: Params{Wait: minute, Hold: 2, Requests: 3}},
		{name: "requests zero: no limit", attrs: "requests='0' hold='1'", want: Params{Wait: minute, Hold: 1}},
		{name: "requests above hold+1", attrs: "requests='7' hold='1'", want: Params{Wait: minute, Hold: 1, Requests: 2}},
		{name: "hold zero: a polling session", attrs: "hold='0' requests='5'", fakeHold: -1, want: Params{Wait: minute, Hold: 0, Requests: 1}},
		{name: "wait zero", attrs: "wait='0'", want: Params{Wait: 0, Hold: 1}},
		{name: "wait above the asked", attrs: "wait='4000000000'", want: Params{Wait: minute, Hold: 1}},
		{name: "wait lowered", attrs: "wait='10'", want: Params{Wait: 10 * time.Second, Hold: 1}},
		{name: "huge polling, inactivity, maxpause", attrs: "polling='86400' inactivity='999999999' maxpause='2147483648'", want: Params{Wait: minute, Hold: 1, Polling: minute, Inactivity: 10 * minute, MaxPause: 10 * minute}},
		{name: "ordinary polling, inactivity, maxpause", attrs: "polling='5' inactivity='60' maxpause='120'", want: Params{Wait: minute, Hold: 1, Polling: 5 * time.Second, Inactivity: minute, MaxPause: 2 * minute}},
		{name: "zero polling, inactivity, maxpause", attrs: "polling='0' inactivity='0' maxpause='0'", want: Params{Wait: minute, Hold: 1}},
		{name: "spaces around a number", attrs: "requests=' 2 ' hold='1 '", want: Params{Wait: minute, Hold: 1, Requests: 2}},
		{name: "negative requests", attrs: "requests='-1'", malformed: true},
		{name: "negative wait", attrs: "wait='-60'", malformed: true},
		{name: "non-numeric hold", attrs: "hold='lots'", malformed: true},
		{name: "empty polling", attrs: "polling=''", malformed: true},
		{name: "fractional inactivity", attrs: "inactivity='1.5'", malformed: true},
		{name: "exponent maxpause", attrs: "maxpause='1e3'", malformed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			before := runtime.NumGoroutine()
			f := newFakeServer(t, fakeConfig{CreationBody: creationBody(tt.attrs), Hold: tt.fakeHold}, false)
			c := dialFake(t, f, func(o *Options) { o.Hold = tt.hold })
			ctx, cancel := context.WithTimeout(context.Background(), openBound)
			defer cancel()
			start := time.Now()
			_, err := c.Open(ctx, false)
			if d := time.Since(start); d > openBound {
				t.Errorf("Open took %v", d)
			}
			if tt.malformed {
				var me *MalformedError
				if !asError(err, &me) {
					t.Fatalf("Open error = %v, want *MalformedError", err)
				}
			} else {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if diff := cmp.Diff(tt.want, c.Params()); diff != "" {
					t.Errorf("params (-want +got):\n%s", diff)
				}
				limit := tt.want.Hold + 1
				if tt.want.Requests > 0 {
					limit = min(limit, tt.want.Requests)
				}
				c.mu.Lock()
				flight := c.flight
				c.mu.Unlock()
				if flight > limit {
					t.Errorf("%d requests in flight after Open, limit %d", flight, limit)
				}
				if n := runtime.NumGoroutine() - before; n > maxTestGoroutines {
					t.Errorf("%d goroutines more after Open", n)
				}
				mustRead(t, c) // features
				f.awaitRequests(2)
				if m := f.MaxFlight(); m > limit {
					t.Errorf("the server saw %d requests at once, limit %d", m, limit)
				}
			}
			closeCtx, cancelClose := context.WithTimeout(context.Background(), time.Second)
			defer cancelClose()
			_ = c.Close(closeCtx)
			f.close()
			goleak.VerifyNone(t, leaks)
		})
	}
}

func TestRequestTimeout(t *testing.T) {
	tests := []struct {
		wait, want time.Duration
	}{
		{0, 5 * time.Second},
		{time.Second, 6 * time.Second},
		{20 * time.Second, 25 * time.Second},
		{60 * time.Second, 66 * time.Second},
		{120 * time.Second, 132 * time.Second},
	}
	for _, tt := range tests {
		c := &Conn{params: Params{Wait: tt.wait}}
		if got := c.requestTimeout(); got != tt.want {
			t.Errorf("wait %v: request timeout %v, want %v", tt.wait, got, tt.want)
		}
	}
}

// TestPollFloor checks that a server answering every poll at once with
// nothing, and setting no 'polling', gets one poll a second, not a loop.
func TestPollFloor(t *testing.T) {
	f := newFakeServer(t, fakeConfig{Hold: -1, Requests: 1}, false)
	clk := newFakeClock()
	c := dialFake(t, f, func(o *Options) { o.Hold = -1 })
	c.clock = clk
	if _, err := c.Open(testCtx(t), false); err != nil {
		t.Fatal(err)
	}
	mustRead(t, c)
	clk.Advance(pollGrace) // the reader took the features and writes nothing
	f.awaitRequests(2)     // creation, first poll (answered empty at once)
	if d := clk.awaitTimer(t); d != minPollInterval {
		t.Errorf("next poll in %v, want %v", d, minPollInterval)
	}
	if n := len(f.Requests()); n != 2 {
		t.Errorf("%d requests before the floor", n)
	}
	clk.Advance(minPollInterval)
	f.awaitRequests(3)
}
