package main

import (
	"context"
	"io"

	"github.com/xmppconn/xmppconn/events"
)

// watch connects and stays connected (pings, resumption, reconnection),
// printing every event until interrupted (SIGINT or SIGTERM); then it
// closes cleanly. It retries for ever, the first connect included, like a
// service (xmppconn.ServiceReconnect), unless --attempts bounds it; each
// retry's reason is printed with its state change.
func watch(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c, code := newCommand("watch", "Connect and stay connected, printing every event until interrupted (SIGINT or SIGTERM closes cleanly).\nRetries for ever, the first connect included, unless --attempts bounds it.", args, stdout, stderr, getenv)
	if c == nil {
		return code
	}
	c.open()
	failed := make(chan struct{}, 1)
	c.conn.On(events.ConnectionFailed, func(events.Event) {
		select {
		case failed <- struct{}{}:
		default:
		}
	})
	code = exitOK
	if err := c.connectUntil(ctx); err != nil { // each attempt is bounded by --timeout
		code = exitFailed
	} else {
		select {
		case <-ctx.Done(): // interrupted: close cleanly
		case <-failed: // lost for good after the recovery attempts
			code = exitFailed
		}
		_ = c.disconnect() // reported on stderr; the exit status says how the session went
	}
	c.flush()
	return code
}
