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

// Eventually polls cond every 5 ms until it holds, or fails the test after
// 10 s. It is for a state the test cannot be told of, only look at.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
