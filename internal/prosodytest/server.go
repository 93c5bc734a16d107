package prosodytest

import (
	"context"

	"github.com/xmppconn/xmppconn/internal/servertest"
)

// Server is a running Prosody 0.12 (see servertest.Server).
type Server = servertest.Server

// SessionInfo describes one session as the server sees it (see
// servertest.SessionInfo).
type SessionInfo = servertest.SessionInfo

// ErrNotInstalled is wrapped by the error of Start when Prosody 0.12 is not
// installed.
var ErrNotInstalled = servertest.ErrNotInstalled

// Start starts a Prosody 0.12 with opts (see servertest.Start).
func Start(ctx context.Context, opts *Options) (*Server, error) {
	return servertest.Start(ctx, servertest.Prosody12, opts.servertest())
}
