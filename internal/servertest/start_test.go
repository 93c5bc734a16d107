package servertest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/xmppconn/xmppconn/internal/servertest"
)

// TestStartFailsFast checks that a module the server cannot load ends Start
// with an error that holds the log, instead of a server that half works.
func TestStartFailsFast(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second server")
	}
	servertest.Each(t, func(t *testing.T, srv *servertest.Server) {
		opts := &servertest.Options{}
		if srv.Kind.IsProsody() {
			opts.Prosody.Modules = []string{"xmppconn_no_such_module"}
		} else {
			opts.Ejabberd.ExtraModules = "  mod_xmppconn_no_such_module: {}\n"
		}
		var log strings.Builder
		opts.Log = &log
		s, err := servertest.Start(testContext(t), srv.Kind, opts)
		if err == nil {
			s.Stop()
			t.Fatal("Start with a missing module succeeded")
		}
		if !strings.Contains(err.Error(), "xmppconn_no_such_module") {
			t.Errorf("error lacks the log tail naming the module: %v", err)
		}
		if !strings.Contains(log.String(), "xmppconn_no_such_module") {
			t.Errorf("Options.Log did not receive the log")
		}
	})
}

func TestStartNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(servertest.CacheEnv, t.TempDir())
	for _, k := range servertest.Kinds {
		t.Run(string(k), func(t *testing.T) {
			_, err := servertest.Start(context.Background(), k, nil)
			if !errors.Is(err, servertest.ErrNotInstalled) {
				t.Fatalf("Start without the server = %v, want ErrNotInstalled", err)
			}
			if !strings.Contains(err.Error(), "make "+strings.TrimSuffix(string(k), "12")) {
				t.Errorf("error %q does not say which make target installs it", err)
			}
		})
	}
}

func TestStartWrongOptions(t *testing.T) {
	_, err := servertest.Start(context.Background(), servertest.Ejabberd, &servertest.Options{
		Prosody: servertest.ProsodyOptions{Modules: []string{"sasl2"}},
	})
	if err == nil || !strings.Contains(err.Error(), "Prosody options given to ejabberd") {
		t.Errorf("Start(ejabberd) with Prosody modules = %v, want a refusal", err)
	}
}
