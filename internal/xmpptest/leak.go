package xmpptest

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// NoLeaks fails the test if it leaves goroutines behind: those running
// when it is called are ignored, the others must be gone once the test and
// its cleanups (registered after NoLeaks) have run.
func NoLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// Context returns a context that ends after 30 s or with the test, to
// bound a Connect or a wait for the server.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
