package hostile

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// session is a live session for the cases that misbehave after CONNECTED:
// a client connected to a server whose script logged it in and then runs
// the case's behaviour.
type session struct {
	*client
	t     *testing.T
	kind  kind
	url   string
	stop  func()
	heap  *heapSampler
	leaks goleak.Option
}

// liveCase configures startSession.
type liveCase struct {
	login loginKind
	sm    bool // offer XEP-0198
	ws    WebSocketOptions
	bosh  BOSHOptions
	tweak func(*xmppconn.Config)
	// then plays the server once the client is bound; n counts the
	// streams (1 for the first).
	then func(ctx context.Context, p Peer, n int)
}

// startSession starts the server and connects; it fails the test when the
// session does not come up.
func startSession(t *testing.T, k kind, lc liveCase) *session {
	t.Helper()
	leaks := goleak.IgnoreCurrent()
	e := newEnv(t)
	heap := baseHeap()
	var streams atomic.Int32
	script := func(ctx context.Context, p Peer) {
		n := int(streams.Add(1))
		if err := Login(ctx, p, lc.sm); err != nil {
			return
		}
		if lc.then != nil {
			lc.then(ctx, p, n)
		}
	}
	url, stop := e.serve(k, lc.ws, lc.bosh, script)
	c := newClient(t, e, url, lc.login, lc.tweak)
	s := &session{client: c, t: t, kind: k, url: url, stop: stop, heap: heap, leaks: leaks}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		s.finish(time.Second)
		t.Fatalf("Connect: %v", err)
	}
	heap.every(50 * time.Millisecond)
	return s
}

// finish disconnects within deadline (and checks that Disconnect returned
// by it), stops the server and makes the checks every case shares: no
// secret shown, the live heap's growth under the ceiling, no goroutine
// left. It returns how long Disconnect took.
func (s *session) finish(deadline time.Duration) time.Duration {
	t := s.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	start := time.Now()
	_ = s.Disconnect(ctx)
	took := time.Since(start)
	cancel()
	if took > deadline+slack {
		t.Errorf("Disconnect took %v, its context allowed %v", took.Round(time.Millisecond), deadline)
	}
	fctx, fcancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = s.Flush(fctx)
	fcancel()
	growth := s.heap.Stop()
	s.stop()
	s.CloseIdle()
	checkNoSecret(t, s.secrets, nil, s.rec.all(), s.logs.String())
	checkHeap(t, s.kind, growth)
	goleak.VerifyNone(t, s.leaks)
	return took
}

// waitState waits until the connection is in one of states, or fails the
// test after d.
func (s *session) waitState(d time.Duration, states ...events.State) events.State {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for {
		st := s.State()
		for _, want := range states {
			if st == want {
				return st
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("state %v after %v, want one of %v; events %s", st, d, states, names(s.rec.all()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// progress counts what a flooding script got through, and tells when it
// stopped getting anything through.
type progress struct {
	n    atomic.Int64
	done atomic.Bool // the flood is over: all sent, its time up, or the stream gone
}

// settle waits until the flood is over (total sent, or the script ended)
// or has made no progress for idle (the client stopped reading), at most
// for max; it returns how much got through.
func (p *progress) settle(total int64, idle, max time.Duration) int64 {
	deadline := time.Now().Add(max)
	last, since := p.n.Load(), time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		n := p.n.Load()
		if n >= total || p.done.Load() {
			return n
		}
		if n != last {
			last, since = n, time.Now()
		} else if time.Since(since) > idle {
			return n
		}
	}
	return p.n.Load()
}

// floodFor bounds a flood in time, so that the suite stays short under
// the race detector, where a client may take a flood slowly without keeping
// it. A BOSH client takes it slower still (each body is parsed whole), and
// gets longer for the same volume to reach it.
func floodFor(p Peer) time.Duration {
	if IsBOSH(p) {
		return 5 * time.Second
	}
	return 3 * time.Second
}

// flood sends elem(i) for i in [0, total) as fast as the client takes
// them, for at most floodFor, counting in pr, then waits for the end of
// ctx.
func flood(total int, elem func(i int) string, pr *progress) func(ctx context.Context, p Peer, n int) {
	return func(ctx context.Context, p Peer, n int) {
		end := time.Now().Add(floodFor(p))
		func() {
			defer pr.done.Store(true)
			for i := 0; i < total && time.Now().Before(end); i++ {
				if err := p.Send(ctx, elem(i)); err != nil {
					return
				}
				pr.n.Add(1)
			}
		}()
		<-ctx.Done()
	}
}
