package websocket

import (
	"context"
	"errors"
	"testing"
	"time"

	coder "github.com/coder/websocket"

	"github.com/xmppconn/xmppconn/transport"
)

// TestAbortSendsNoClose checks that Abort cuts the connection without a
// <close/> or a close handshake, so that the server takes it for a lost
// connection and keeps a XEP-0198 session for resumption; a reader
// blocked meanwhile returns, and Close afterwards returns at once.
func TestAbortSendsNoClose(t *testing.T) {
	seen := make(chan transcript, 1)
	s := newServer(t, false, nil, func(ctx context.Context, t *testing.T, ws *coder.Conn) {
		recordUntilClosed(ctx, ws, seen, func(msg string) {
			if msg == clientOpen {
				write(ctx, ws, serverOpen)
				write(ctx, ws, "<stream:features xmlns:stream='http://etherx.jabber.org/streams'/>")
			}
		})
	})
	c := s.dial(t, nil)
	ctx := context.Background()
	if _, err := c.Open(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadElement(ctx); err != nil { // the features
		t.Fatal(err)
	}
	readErr := make(chan error, 1)
	go func() {
		_, err := c.ReadElement(ctx)
		readErr <- err
	}()
	c.Abort()
	select {
	case err := <-readErr:
		if err == nil {
			t.Error("ReadElement returned an element after Abort")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadElement still blocked after Abort")
	}
	tr := <-seen
	for _, m := range tr.msgs {
		if m == clientClose {
			t.Errorf("the server got <close/> after Abort: %q", tr.msgs)
		}
	}
	if tr.code != -1 {
		t.Errorf("the server got close code %d, want none (the connection cut)", tr.code)
	}
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := c.Close(cctx); err != nil && !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Close after Abort: %v", err)
	}
	c.Abort() // again: nothing happens
}
