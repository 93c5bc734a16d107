package prosodytest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/xmppconn/xmppconn/internal/prosodytest"
)

// TestStartFailsFast checks that a module Prosody cannot load ends Start with
// an error that holds the log, instead of a server that half works.
func TestStartFailsFast(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second Prosody")
	}
	prosodytest.Require(t) // same skip rules as the rest of the package
	var log strings.Builder
	srv, err := prosodytest.Start(testContext(t), &prosodytest.Options{
		Modules: []string{"xmppconn_no_such_module"},
		Log:     &log,
	})
	if err == nil {
		srv.Stop()
		t.Fatal("Start with a missing module succeeded")
	}
	if !strings.Contains(err.Error(), "xmppconn_no_such_module") {
		t.Errorf("error lacks the log tail naming the module: %v", err)
	}
	if !strings.Contains(log.String(), "xmppconn_no_such_module") {
		t.Errorf("Options.Log did not receive the log")
	}
}

func TestStartNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := prosodytest.Start(context.Background(), nil)
	if !errors.Is(err, prosodytest.ErrNotInstalled) {
		t.Fatalf("Start without prosody on PATH = %v, want ErrNotInstalled", err)
	}
}
