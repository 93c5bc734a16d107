package bosh

import (
	"context"
	"testing"
	"time"
)

// TestAbortSendsNoTerminate checks that Abort ends the Conn without a
// terminate request, so that the server's session (and a XEP-0198 session
// on it) lives on for resumption: the held long-poll is cancelled, a reader
// blocked meanwhile returns, and Close afterwards returns at once.
func TestAbortSendsNoTerminate(t *testing.T) {
	f := newFakeServer(t, fakeConfig{}, false)
	c := openFake(t, f, nil)
	mustRead(t, c) // the features
	readErr := make(chan error, 1)
	go func() {
		_, err := c.ReadElement(testCtx(t))
		readErr <- err
	}()
	f.awaitHeld(1) // the reader waits: the long-poll is out
	c.Abort()
	select {
	case err := <-readErr:
		if err == nil {
			t.Error("ReadElement returned an element after Abort")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadElement still blocked after Abort")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	if err := c.Close(ctx); err != nil {
		t.Errorf("Close after Abort: %v", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Close after Abort took %v", d)
	}
	c.Abort() // again: nothing happens
	for _, r := range f.Requests() {
		if r.Attrs["type"] == "terminate" {
			t.Errorf("the server got a terminate request after Abort: %s", r.Raw)
		}
	}
}
