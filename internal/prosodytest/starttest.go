package prosodytest

import (
	"testing"

	"github.com/xmppconn/xmppconn/internal/servertest"
)

// StartTest starts a Prosody 0.12 of the test's own with opts and stops it
// when the test ends (see servertest.StartTest).
func StartTest(t testing.TB, opts *Options) *Server {
	t.Helper()
	return servertest.StartTest(t, servertest.Prosody12, opts.servertest())
}
