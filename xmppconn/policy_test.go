package xmppconn_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// TestServiceReconnect pins the service policy the README shows in one line.
func TestServiceReconnect(t *testing.T) {
	p := xmppconn.ServiceReconnect()
	if !p.Unlimited || !p.RetryConnect || p.MaxDelay != 30*time.Second || p.Disabled {
		t.Errorf("ServiceReconnect() = %+v", p)
	}
}

// TestUnlimitedRecovery: an outage longer than three attempts is ridden
// out with Unlimited; each failed attempt says why and what comes next.
func TestUnlimitedRecovery(t *testing.T) {
	xmpptest.NoLeaks(t)
	f1, f2 := xmpptest.NewFakeConn(), xmpptest.NewFakeConn()
	// The server is away for 6 attempts, then f2 answers.
	d := &dialer{conns: []*xmpptest.FakeConn{f1, nil, nil, nil, nil, nil, nil, f2}, err: errRefused}
	cfg := recoverConfig(d)
	cfg.Reconnect = xmppconn.ReconnectConfig{Unlimited: true, MaxDelay: time.Millisecond}
	c := xmppconn.New(cfg)
	rec := xmpptest.Record(c)
	defer c.Disconnect(context.Background())
	wait := server(t, func() { f1.Send(xmpptest.BindResult(f1.ServeLogin(t))) })
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	wait()
	wait = server(t, func() { f2.Send(xmpptest.BindResult(f2.ServeLogin(t))) })
	close(f1.ToClient) // lost without a stream error
	rec.WaitForNth(t, 10*time.Second, "second CONNECTED", 2, isState(events.StateConnected))
	wait()

	var got []events.StateChange
	for _, e := range rec.All() {
		if sc, ok := e.(events.StateChange); ok && (sc.State == events.StateDisconnected || sc.State == events.StateReconnecting) {
			got = append(got, sc)
		}
	}
	if len(got) != 1+6+7 { // the loss, 6 failed attempts, 7 attempts
		t.Fatalf("%d DISCONNECTED/RECONNECTING events, want 14: %+v", len(got), got)
	}
	for i, sc := range got {
		wantState, wantAttempt := events.StateReconnecting, (i+1)/2
		if i%2 == 0 {
			wantState, wantAttempt = events.StateDisconnected, i/2
		}
		if sc.State != wantState || sc.Attempt != wantAttempt || sc.Err == "" || sc.Reason == "" {
			t.Errorf("event %d = %+v, want %v attempt %d with a reason", i, sc, wantState, wantAttempt)
		}
		if sc.State == events.StateDisconnected && sc.NextDelayMS > 1 {
			t.Errorf("event %d waits %d ms, more than MaxDelay", i, sc.NextDelayMS)
		}
	}
	if got[0].Reason != "stream closed by the server" || got[2].Reason == got[0].Reason {
		t.Errorf("reasons %q then %q: want the loss, then the refused dial", got[0].Reason, got[2].Reason)
	}
	if n := len(rec.Failures()); n != 0 {
		t.Errorf("%d ConnectionFailed, want none", n)
	}
}

// TestRetryConnect: a first Connect while the server is down is retried
// under the policy; every failed attempt is FAILED with its reason and the
// wait, then CONNECTING again.
func TestRetryConnect(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	d := &dialer{conns: []*xmpptest.FakeConn{nil, nil, f}, err: errRefused}
	cfg := recoverConfig(d)
	cfg.Reconnect = xmppconn.ReconnectConfig{Unlimited: true, RetryConnect: true, MaxDelay: time.Millisecond}
	c := xmppconn.New(cfg)
	rec := xmpptest.Record(c)
	defer c.Disconnect(context.Background())
	wait := server(t, func() { f.Send(xmpptest.BindResult(f.ServeLogin(t))) })
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	wait()
	// Connect returns after the listeners saw its events: no Flush needed.
	want := []string{"state:CONNECTING", "state:FAILED", "failed:connection.otherError", "state:CONNECTING",
		"state:FAILED", "failed:connection.otherError", "state:CONNECTING", "state:CONNECTED", "established"}
	if diff := cmp.Diff(want, rec.Names()); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	var attempts []int
	for _, e := range rec.All() {
		if sc, ok := e.(events.StateChange); ok {
			attempts = append(attempts, sc.Attempt)
			if sc.State == events.StateFailed && sc.Reason == "" {
				t.Errorf("FAILED without a reason: %+v", sc)
			}
		}
	}
	if diff := cmp.Diff([]int{0, 1, 2, 2, 3, 0}, attempts); diff != "" {
		t.Errorf("attempt numbers (-want +got):\n%s", diff)
	}
}

// TestRetryConnectStops: RetryConnect gives up on an error that cannot
// heal, and Disconnect ends a Connect that waits to try again.
func TestRetryConnectStops(t *testing.T) {
	t.Run("error that cannot heal", func(t *testing.T) {
		xmpptest.NoLeaks(t)
		d := &dialer{err: &transport.LimitError{What: "element size", Limit: 1}}
		cfg := recoverConfig(d)
		cfg.Reconnect = xmppconn.ServiceReconnect()
		c := xmppconn.New(cfg)
		err := c.Connect(xmpptest.Context(t))
		var f events.Failed
		if !errors.As(err, &f) || d.count() != 1 {
			t.Fatalf("Connect = %v after %d dials, want one failed attempt", err, d.count())
		}
	})
	t.Run("disconnect while waiting", func(t *testing.T) {
		xmpptest.NoLeaks(t)
		d := &dialer{err: errRefused}
		cfg := recoverConfig(d)
		cfg.Reconnect = xmppconn.ReconnectConfig{Unlimited: true, RetryConnect: true, Delay: func(int) time.Duration { return time.Hour }}
		c := xmppconn.New(cfg)
		rec := xmpptest.Record(c)
		errc := make(chan error, 1)
		go func() { errc <- c.Connect(context.Background()) }()
		rec.WaitFor(t, 10*time.Second, "FAILED", isState(events.StateFailed))
		if err := c.Disconnect(xmpptest.Context(t)); err != nil {
			t.Fatalf("Disconnect: %v", err)
		}
		if err := <-errc; !errors.Is(err, xmppconn.ErrDisconnected) {
			t.Errorf("Connect = %v, want ErrDisconnected", err)
		}
		if d.count() != 1 {
			t.Errorf("%d dials, want 1", d.count())
		}
	})
}

// TestAttemptTimeoutIsOneAttempt: a recovery attempt that runs into
// Reconnect.AttemptTimeout counts as one failed attempt, not as the end of
// recovery: Attempts 3 gives three attempts.
func TestAttemptTimeoutIsOneAttempt(t *testing.T) {
	xmpptest.NoLeaks(t)
	f1 := xmpptest.NewFakeConn()
	// Every later dial gives a server that never answers.
	silent := []*xmpptest.FakeConn{f1, xmpptest.NewFakeConn(), xmpptest.NewFakeConn(), xmpptest.NewFakeConn()}
	d := &dialer{conns: silent, err: errRefused}
	cfg := recoverConfig(d)
	cfg.Reconnect.AttemptTimeout = 50 * time.Millisecond
	c := xmppconn.New(cfg)
	rec := xmpptest.Record(c)
	defer c.Disconnect(context.Background())
	wait := server(t, func() { f1.Send(xmpptest.BindResult(f1.ServeLogin(t))) })
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	wait()
	close(f1.ToClient)
	ev := rec.WaitFor(t, 10*time.Second, "ConnectionFailed", xmpptest.Is(events.ConnectionFailed))
	if n := d.count(); n != 4 {
		t.Errorf("%d dials, want 1 + 3 attempts", n)
	}
	f := ev.(events.Failed)
	if !errors.Is(f, xmppconn.ErrAttemptTimeout) || f.Reason != "timed out" {
		t.Errorf("ConnectionFailed = %v (cause %v), want the attempt timeout", f, f.Cause)
	}
}

// TestDisconnectFromListener: Connect and Disconnect wait for the listeners,
// except when called from one.
func TestDisconnectFromListener(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	c := xmppconn.New(f.Config())
	done := make(chan error, 1)
	c.On(events.ConnectionEstablished, func(events.Event) {
		done <- c.Disconnect(context.Background())
	})
	wait := server(t, func() { f.Send(xmpptest.BindResult(f.ServeLogin(t))) })
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	wait()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Disconnect from a listener: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Disconnect from a listener deadlocked")
	}
	if st := c.State(); st != events.StateClosed {
		t.Errorf("state = %v, want CLOSED", st)
	}
}
