package servertest

import (
	"context"
	"errors"
	"testing"
	"time"
)

// StartTest starts a server of kind k with opts for the test alone, for a
// configuration or a lifetime (Restart) the package's shared server cannot
// give, and stops it when the test ends. It skips like Require: when k is
// not selected, in -short mode, or when the server is not installed (a
// failure with XMPPCONN_REQUIRE_PROSODY=1); a server that fails to start
// fails the test.
func StartTest(t testing.TB, k Kind, opts *Options) *Server {
	t.Helper()
	if !selected(k) {
		t.Skipf("servertest: %s not selected by %s", k, SelectEnv)
	}
	if testing.Short() {
		missingServer(t, k, errShort)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := Start(ctx, k, opts)
	if errors.Is(err, ErrNotInstalled) {
		missingServer(t, k, err)
	}
	if err != nil {
		t.Fatalf("servertest: start %s: %v", k, err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("servertest: stop %s: %v", k, err)
		}
	})
	return s
}
