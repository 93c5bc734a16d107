package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/xmppconn"
	"github.com/xmppconn/xmppconn/xmppconn/jitsi"
)

// command is what probe and watch share: the connection flags parsed, a
// Connection configured from them, and every event printed as it comes.
type command struct {
	name    string
	flags   connFlags
	conn    *xmppconn.Connection
	printer *printer
	stderr  io.Writer
}

// newCommand parses the arguments of command name. When it returns nil, the
// command ends with the exit status code (help, or a usage error).
func newCommand(name, about string, args []string, stdout, stderr io.Writer, getenv func(string) string) (*command, int) {
	c := &command{name: name, stderr: stderr}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.flags.register(fs)
	var attempts int
	if name == "watch" {
		fs.IntVar(&attempts, "attempts", 0, "give up after this many failed attempts in a row (0: never)")
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: xmppconn %s [flags] URL|DOMAIN\n\n%s\n\nflags:\n", name, about)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if isHelp(err) {
			return nil, exitOK
		}
		return nil, exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "xmppconn %s: want exactly one URL or DOMAIN\n", name)
		fs.Usage()
		return nil, exitUsage
	}
	cfg, err := c.flags.config(pos[0], getenv, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "xmppconn %s: %v\n", name, err)
		return nil, exitUsage
	}
	switch {
	case attempts < 0:
		fmt.Fprintf(stderr, "xmppconn %s: --attempts must not be negative\n", name)
		return nil, exitUsage
	case name == "watch":
		// A service: retry for ever, the first connect included, each
		// attempt bounded by --timeout.
		cfg.Reconnect = xmppconn.ServiceReconnect()
		cfg.Reconnect.AttemptTimeout = c.flags.timeout
		if attempts > 0 {
			cfg.Reconnect.Unlimited, cfg.Reconnect.Attempts = false, attempts
		}
	default:
		// probe measures one attempt and never reconnects.
		cfg.Reconnect.Disabled = true
	}
	c.printer = &printer{w: stdout, json: c.flags.json}
	c.conn = xmppconn.New(cfg)
	// Operators probe Jitsi deployments: the Jitsi layer is on by default.
	jitsi.Attach(c.conn, jitsi.Config{Logger: cfg.Logger})
	c.conn.OnAny(c.printer.print)
	return c, 0
}

// connect starts the clock and connects, bounded by --timeout.
func (c *command) connect(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, c.flags.timeout)
	defer cancel()
	return c.connectUntil(cctx)
}

// connectUntil starts the clock and connects, bounded by ctx only (watch:
// each attempt is bounded by --timeout). A certificate the client does not
// trust gets a hint on stderr.
func (c *command) connectUntil(ctx context.Context) error {
	c.printer.start = time.Now()
	err := c.conn.Connect(ctx)
	if transport.Certificate(err) {
		fmt.Fprintf(c.stderr, "xmppconn %s: the server's certificate is not trusted; for a private CA, pass its certificate with --ca-file FILE\n", c.name)
	}
	return err
}

// disconnect closes the connection (bounded) and reports a failure to close.
func (c *command) disconnect() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := c.conn.Disconnect(ctx)
	if err != nil {
		fmt.Fprintf(c.stderr, "xmppconn %s: disconnect: %v\n", c.name, err)
	}
	return err
}

// flush waits (bounded) until every event has been printed.
func (c *command) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.conn.Flush(ctx)
}
