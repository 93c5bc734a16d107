package prosodytest

import (
	"testing"

	"github.com/xmppconn/xmppconn/internal/servertest"
)

// Main is for TestMain: it starts the package's Prosody 0.12 before the
// tests run (unless -short is set, prosody is missing, or XMPPCONN_SERVER
// leaves prosody12 out), runs m, stops the server and exits with the code.
// It also fails the run when goroutines leak (see servertest.Main).
//
//	func TestMain(m *testing.M) { prosodytest.Main(m, nil) }
func Main(m *testing.M, opts *Options) {
	servertest.MainStartFirst(m, func(servertest.Kind) *servertest.Options { return opts.servertest() }, servertest.Prosody12)
}

// Require returns the package's server, started by Main. It skips or fails
// the test as servertest.Require does for prosody12.
func Require(t testing.TB) *Server {
	t.Helper()
	return servertest.Require(t, servertest.Prosody12)
}
