package bosh

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/transport"
)

// TestNotifyReadable: the callback runs at once when an element waits,
// later when one arrives, and when the Conn is closed, once each time.
func TestNotifyReadable(t *testing.T) {
	f := newFakeServer(t, fakeConfig{}, false)
	c := openFake(t, f, nil)
	ready := make(chan struct{}, 4)
	notify := func() { c.NotifyReadable(func() { ready <- struct{}{} }) }
	expect := func(what string) {
		t.Helper()
		select {
		case <-ready:
		case <-time.After(10 * time.Second):
			t.Fatalf("no callback %s", what)
		}
	}
	quiet := func(what string) {
		t.Helper()
		select {
		case <-ready:
			t.Fatalf("callback %s", what)
		default:
		}
	}

	notify() // the stream features wait
	expect("with an element waiting")
	mustRead(t, c)

	notify()
	f.awaitHeld(1)
	quiet("with nothing to read")
	f.Push("<message xmlns='jabber:client' id='n1'/>")
	expect("when an element arrived")
	if got := mustRead(t, c); got != "<message xmlns='jabber:client' id='n1'/>" {
		t.Errorf("read %s", got)
	}

	notify()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	expect("at close")
	if _, err := c.ReadElement(ctx); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("ReadElement after close: %v", err)
	}
	quiet("twice")
}
