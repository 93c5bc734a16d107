// Command demo shows the xmppconn CLI against a real, throwaway Prosody: it
// starts a Prosody 0.12 with internal/servertest, creates the account demo@localhost
// with a random password, and runs `xmppconn probe` once over WebSocket and
// once over BOSH (both over TLS, trusting the throwaway CA), streaming the
// output of each run under a header line. It is what `make demo` runs; it is
// not a test and not a tool for real servers.
//
// Usage:
//
//	go run ./internal/cmd/demo [-plain] ./bin/xmppconn
//
// The password reaches each probe only through XMPPCONN_DEMO_PASSWORD in the
// child's environment (--password-env). The exit status is non-zero when a
// probe fails, Prosody cannot start, or the demo is interrupted (Ctrl-C stops
// Prosody before exiting).
package main
