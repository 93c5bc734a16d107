package prosodytest

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// StartTest starts a Prosody of the test's own with opts, for a test that
// needs a configuration or a lifetime (Restart) the package's shared server
// cannot give, and stops it when the test ends. Like Require, it skips the
// test in -short mode or when prosody is not installed, unless
// XMPPCONN_REQUIRE_PROSODY=1 makes that a failure; a server that fails to
// start fails the test.
func StartTest(t testing.TB, opts *Options) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("prosodytest: skipped in -short mode (needs a real Prosody)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := Start(ctx, opts)
	if errors.Is(err, ErrNotInstalled) && os.Getenv(RequireEnv) != "1" {
		t.Skip(installHint)
	}
	if err != nil {
		t.Fatalf("prosodytest: start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("prosodytest: stop: %v", err)
		}
	})
	return s
}
