package prosodytest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// RequireEnv is the environment variable that turns a missing or broken
// Prosody from a skipped test into a failed one (CI sets it to "1").
const RequireEnv = "XMPPCONN_REQUIRE_PROSODY"

// installHint is the start of the skip message when prosody is missing.
const installHint = "prosody not installed: apt-get install prosody prosody-modules (or run make prosody)"

var errShort = errors.New("prosodytest: not started in -short mode")

// shared is the package's server, started by Main.
var shared struct {
	mu     sync.Mutex
	main   bool    // Main has run
	server *Server // nil when not started
	err    error   // why server is nil
}

// Main is for TestMain. It starts one server for the test package (unless
// -short is set or prosody is missing), runs m, stops the server and exits
// with the code. It also fails the run when goroutines leak (go.uber.org/goleak
// after the server is stopped), so a package using Main needs no
// goleak.VerifyTestMain of its own.
//
//	func TestMain(m *testing.M) { prosodytest.Main(m, nil) }
func Main(m *testing.M, opts *Options) {
	os.Exit(runMain(m, opts))
}

func runMain(m *testing.M, opts *Options) int {
	if !flag.Parsed() {
		flag.Parse()
	}
	s, err := startShared(opts)
	shared.mu.Lock()
	shared.main, shared.server, shared.err = true, s, err
	shared.mu.Unlock()
	if err != nil && !errors.Is(err, errShort) && !errors.Is(err, ErrNotInstalled) {
		fmt.Fprintf(os.Stderr, "prosodytest: %v\n", err)
	}

	code := m.Run()

	if s != nil {
		if code != 0 {
			s.copyLog()
		}
		if err := s.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "prosodytest: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	return code
}

func startShared(opts *Options) (*Server, error) {
	if testing.Short() {
		return nil, errShort
	}
	return Start(context.Background(), opts)
}

// Require returns the package's server, started by Main. When there is none
// it skips the test: in -short mode, when prosody is not installed ("prosody
// not installed: apt-get install prosody ..."), or when it failed to start.
// With XMPPCONN_REQUIRE_PROSODY=1 a missing or failed prosody fails the test
// instead. Calling Require without Main in TestMain fails the test.
func Require(t testing.TB) *Server {
	t.Helper()
	shared.mu.Lock()
	ran, s, err := shared.main, shared.server, shared.err
	shared.mu.Unlock()
	switch {
	case s != nil:
		return s
	case !ran:
		t.Fatal("prosodytest: Require needs prosodytest.Main(m, opts) in the package's TestMain")
	case errors.Is(err, errShort):
		t.Skip("prosodytest: skipped in -short mode (needs a real Prosody)")
	}
	msg := "prosody failed to start: " + err.Error()
	if errors.Is(err, ErrNotInstalled) {
		msg = installHint
	}
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s (%s=1 makes this a failure)", msg, RequireEnv)
	}
	t.Skip(msg)
	return nil
}
