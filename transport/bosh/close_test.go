package bosh

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/transport"
)

const presenceUnavailable = "<presence xmlns='jabber:client' type='unavailable'/>"

func TestCloseSendsTerminate(t *testing.T) {
	f := newFakeServer(t, fakeConfig{}, false)
	c := openFake(t, f, nil)
	mustRead(t, c)
	f.awaitHeld(1)

	readDone := make(chan error, 1)
	go func() {
		_, err := c.ReadElement(context.Background())
		readDone <- err
	}()
	if err := c.Close(testCtx(t)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-readDone; !errors.Is(err, transport.ErrClosed) {
		t.Errorf("blocked ReadElement returned %v, want ErrClosed", err)
	}

	reqs := f.Requests()
	last := reqs[len(reqs)-1]
	if last.Attrs["type"] != "terminate" || last.Attrs["sid"] != "SID" {
		t.Fatalf("last request is not a terminate: %s", last.Raw)
	}
	if diff := cmp.Diff([]string{presenceUnavailable}, last.Children); diff != "" {
		t.Errorf("terminate payload (-want +got):\n%s", diff)
	}
	if want := byRID(reqs)[len(byRID(reqs))-2].RID + 1; last.RID != want {
		t.Errorf("terminate rid %d, want %d", last.RID, want)
	}

	// Idempotent, and everything else now fails.
	if err := c.Close(testCtx(t)); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := c.WriteElement(testCtx(t), []byte(msg1)); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("WriteElement after Close = %v", err)
	}
	if _, err := c.Open(testCtx(t), true); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Open after Close = %v", err)
	}
	if n := len(f.Requests()); n != len(reqs) {
		t.Errorf("%d requests after Close", n-len(reqs))
	}
}

func TestCloseFlushesQueue(t *testing.T) {
	f := newFakeServer(t, fakeConfig{Requests: 1}, false)
	c := openFake(t, f, nil)
	mustRead(t, c)
	f.awaitHeld(1)
	mustWrite(t, c, msg1) // waits: the only slot is busy
	if err := c.Close(testCtx(t)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if diff := cmp.Diff([]string{msg1, presenceUnavailable}, f.Received()); diff != "" {
		t.Errorf("server received (-want +got):\n%s", diff)
	}
}

func TestCloseUnresponsiveServer(t *testing.T) {
	f := newFakeServer(t, fakeConfig{Fault: func(r *fakeRequest) fault {
		if r.Attrs["type"] == "terminate" {
			return fault{Kind: faultLose}
		}
		return fault{}
	}}, false)
	c := openFake(t, f, nil)
	mustRead(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := c.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want the context's deadline", err)
	}
}

func TestCloseStates(t *testing.T) {
	t.Run("before Open", func(t *testing.T) {
		f := newFakeServer(t, fakeConfig{}, false)
		c := dialFake(t, f, nil)
		if err := c.Close(testCtx(t)); err != nil {
			t.Errorf("Close: %v", err)
		}
		if _, err := c.Open(testCtx(t), false); !errors.Is(err, transport.ErrClosed) {
			t.Errorf("Open after Close = %v", err)
		}
		if n := len(f.Requests()); n != 0 {
			t.Errorf("%d requests", n)
		}
	})
	t.Run("after the session was lost", func(t *testing.T) {
		f := newFakeServer(t, fakeConfig{}, false)
		c := openFake(t, f, nil)
		mustRead(t, c)
		f.awaitHeld(1)
		f.PushBody("<body type='terminate' condition='system-shutdown' xmlns='http://jabber.org/protocol/httpbind'/>")
		readErr(t, c)
		n := len(f.Requests())
		if err := c.Close(testCtx(t)); err != nil {
			t.Errorf("Close: %v", err)
		}
		if got := len(f.Requests()); got != n {
			t.Errorf("Close sent %d requests to a dead session", got-n)
		}
	})
	t.Run("during Open", func(t *testing.T) {
		f := newFakeServer(t, fakeConfig{Fault: func(*fakeRequest) fault { return fault{Kind: faultLose} }}, false)
		c := dialFake(t, f, nil)
		openErr := make(chan error, 1)
		go func() {
			_, err := c.Open(context.Background(), false)
			openErr <- err
		}()
		f.awaitRequests(1)
		if err := c.Close(testCtx(t)); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-openErr; !errors.Is(err, transport.ErrClosed) {
			t.Errorf("Open = %v, want ErrClosed", err)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		f := newFakeServer(t, fakeConfig{}, false)
		c := openFake(t, f, nil)
		mustRead(t, c)
		errs := make(chan error, 3)
		for range 3 {
			go func() { errs <- c.Close(testCtx(t)) }()
		}
		for range 3 {
			if err := <-errs; err != nil {
				t.Errorf("Close: %v", err)
			}
		}
		terminates := 0
		for _, r := range f.Requests() {
			if r.Attrs["type"] == "terminate" {
				terminates++
			}
		}
		if terminates != 1 {
			t.Errorf("%d terminate requests", terminates)
		}
	})
}

// TestCloseKeepsHeldConnection: Close lets the request the server held
// come back before it cancels what is left, so that its kept-alive
// connection serves the next session. Cancelled, the held request would
// have closed it, and the next session's first request would have dialed.
// (The terminate carries no Connection: close, though Prosody 13 closes its
// connection once it has answered: Prosody 0.12 then now and then closes it
// without an answer.)
func TestCloseKeepsHeldConnection(t *testing.T) {
	// The fake answers the held request after the terminate, as a
	// connection manager may: its answer is on the way when Close has the
	// terminate's.
	f := newFakeServer(t, fakeConfig{HeldLate: 5 * time.Millisecond}, false)
	var mu sync.Mutex
	closed := make(map[string]bool) // by local address: closed by the client
	tr := f.srv.Client().Transport.(*http.Transport).Clone()
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		closed[c.LocalAddr().String()] = false
		return &closeRecorder{Conn: c, closed: func() {
			mu.Lock()
			defer mu.Unlock()
			closed[c.LocalAddr().String()] = true
		}}, nil
	}
	hc := &http.Client{Transport: tr}
	defer hc.CloseIdleConnections()
	c := openFake(t, f, func(o *Options) { o.HTTPClient = hc })
	mustRead(t, c)
	f.awaitHeld(1)
	if err := c.Close(testCtx(t)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	reqs := f.Requests()
	terminate, held := reqs[len(reqs)-1], reqs[len(reqs)-2]
	if terminate.Attrs["type"] != "terminate" || held.Remote == terminate.Remote {
		t.Fatalf("the last two requests: %v on %s, %v on %s; want a held request and the terminate on two connections",
			held.Attrs, held.Remote, terminate.Attrs, terminate.Remote)
	}
	mu.Lock()
	defer mu.Unlock()
	if closed[held.Remote] {
		t.Error("the held request's connection was closed")
	}
}

// closeRecorder is a net.Conn that reports when the client closes it.
type closeRecorder struct {
	net.Conn
	closed func()
	once   sync.Once
}

func (c *closeRecorder) Close() error {
	c.once.Do(c.closed)
	return c.Conn.Close()
}
