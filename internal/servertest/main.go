package servertest

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

// shared holds the package's servers, one per kind, started on first use.
var shared struct {
	mu      sync.Mutex
	main    bool                   // Main has run
	options func(Kind) *Options    // from Main
	servers map[Kind]*sharedServer // started or failed
}

// sharedServer is the outcome of starting the package's server of one kind.
type sharedServer struct {
	once   sync.Once
	server *Server // nil when it did not start
	err    error   // why server is nil
}

// errShort is why no server starts in -short mode.
var errShort = errors.New("servertest: no server in -short mode")

// Main is for TestMain. It runs m with servers started on first use, one per
// kind (each test package runs its own), then stops them and exits with the
// code. options gives the Options of each kind's server; nil means the
// defaults. Main also fails the run when goroutines leak (go.uber.org/goleak,
// after the servers are stopped), so a package using it needs no
// goleak.VerifyTestMain of its own. An invalid XMPPCONN_SERVER fails the run.
//
//	func TestMain(m *testing.M) { servertest.Main(m, nil) }
func Main(m *testing.M, options func(Kind) *Options) {
	os.Exit(runMain(m, options))
}

// runMain is Main without the exit.
func runMain(m *testing.M, options func(Kind) *Options) int {
	if !flag.Parsed() {
		flag.Parse()
	}
	if _, err := Selected(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	shared.mu.Lock()
	shared.main, shared.options, shared.servers = true, options, map[Kind]*sharedServer{}
	shared.mu.Unlock()

	code := m.Run()

	shared.mu.Lock()
	servers := shared.servers
	shared.servers = nil
	shared.mu.Unlock()
	for _, ss := range servers {
		s := ss.server
		if s == nil {
			continue
		}
		if code != 0 {
			s.copyLog()
		}
		if err := s.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "servertest: stop %s: %v\n", s.Kind, err)
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

// sharedFor returns the package's server of kind k, starting it on the
// first call.
func sharedFor(k Kind) (*Server, error) {
	shared.mu.Lock()
	if shared.servers == nil {
		shared.mu.Unlock()
		return nil, errors.New("servertest: the package's servers are stopped")
	}
	ss := shared.servers[k]
	if ss == nil {
		ss = &sharedServer{}
		shared.servers[k] = ss
	}
	options := shared.options
	shared.mu.Unlock()
	ss.once.Do(func() {
		if testing.Short() {
			ss.err = errShort
			return
		}
		var opts *Options
		if options != nil {
			opts = options(k)
		}
		ss.server, ss.err = Start(context.Background(), k, opts)
	})
	return ss.server, ss.err
}

// Each runs fn as a subtest per selected server kind (XMPPCONN_SERVER, in
// the order of Kinds), named after the kind, with the package's server of
// that kind. The subtests run one after another. See Require for when a
// subtest skips or fails instead. The server may start as the subtest
// begins: a leak check (goleak.IgnoreCurrent) belongs inside fn.
//
//	servertest.Each(t, func(t *testing.T, srv *servertest.Server) { ... })
func Each(t *testing.T, fn func(t *testing.T, srv *Server)) {
	t.Helper()
	each(t, "", fn)
}

// EachWith is Each for a test whose subject is feature f: on a kind that
// lacks f the subtest is skipped with the reason (see Feature), before any
// server of that kind starts.
func EachWith(t *testing.T, f Feature, fn func(t *testing.T, srv *Server)) {
	t.Helper()
	each(t, f, fn)
}

// EachKind runs fn as a subtest per selected kind that has feature need
// (any kind when need is ""), without starting the package's servers: for
// a test that starts servers of its own (StartTest). On a kind that lacks
// need the subtest is skipped with the reason.
func EachKind(t *testing.T, need Feature, fn func(t *testing.T, k Kind)) {
	t.Helper()
	kinds, err := Selected()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kinds {
		t.Run(string(k), func(t *testing.T) {
			if why := k.Lacks(need); why != "" {
				t.Skipf("%s: no %s: %s", k, need, why)
			}
			fn(t, k)
		})
	}
}

// each runs fn per selected kind that has feature need ("": any kind).
func each(t *testing.T, need Feature, fn func(t *testing.T, srv *Server)) {
	t.Helper()
	EachKind(t, need, func(t *testing.T, k Kind) { fn(t, Require(t, k)) })
}

// Require returns the package's server of kind k, started on the first call
// (Main must be the package's TestMain). It skips the test when k is not
// selected by XMPPCONN_SERVER, in -short mode, when the server is not
// installed (with how to install it), or when it failed to start; with
// XMPPCONN_REQUIRE_PROSODY=1 the last two fail the test instead.
func Require(t testing.TB, k Kind) *Server {
	t.Helper()
	shared.mu.Lock()
	ran := shared.main
	shared.mu.Unlock()
	if !ran {
		t.Fatal("servertest: Require needs servertest.Main in the package's TestMain")
	}
	if !selected(k) {
		t.Skipf("servertest: %s not selected by %s=%q", k, SelectEnv, os.Getenv(SelectEnv))
	}
	s, err := sharedFor(k)
	if s != nil {
		return s
	}
	missingServer(t, k, err)
	return nil
}

// missingServer skips or fails t for a server that did not start.
func missingServer(t testing.TB, k Kind, err error) {
	t.Helper()
	if errors.Is(err, errShort) {
		t.Skipf("servertest: %s skipped in -short mode (needs a real server)", k)
	}
	msg := fmt.Sprintf("%s failed to start: %v", k, err)
	if errors.Is(err, ErrNotInstalled) {
		msg = err.Error()
	}
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s (%s=1 makes this a failure)", msg, RequireEnv)
	}
	t.Skip(msg)
}

// EachB is Each for a benchmark: fn runs as a sub-benchmark per selected
// server kind, named after the kind, with the package's server of that kind.
func EachB(b *testing.B, fn func(b *testing.B, srv *Server)) {
	b.Helper()
	kinds, err := Selected()
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range kinds {
		b.Run(string(k), func(b *testing.B) { fn(b, Require(b, k)) })
	}
}
