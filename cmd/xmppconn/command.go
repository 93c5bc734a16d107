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
	repeat  repeatFlags // probe only
	target  string      // the URL or domain, as given
	cfg     xmppconn.Config
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
	switch name {
	case "watch":
		fs.IntVar(&attempts, "attempts", 0, "give up after this many failed attempts in a row (0: never)")
	case "probe":
		c.repeat.register(fs)
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
	if err := c.repeat.check(); err != nil {
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
	c.target, c.cfg = pos[0], cfg
	return c, 0
}

// open makes the command's Connection, with the Jitsi layer (operators
// probe Jitsi deployments: it is on by default), printing every event.
func (c *command) open() {
	c.use(xmppconn.New(c.cfg))
	jitsi.Attach(c.conn, jitsi.Config{Logger: c.cfg.Logger})
}

// use makes conn the command's Connection, printing every event.
func (c *command) use(conn *xmppconn.Connection) {
	c.conn = conn
	c.conn.OnAny(c.printer.print)
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
		c.certificateHint()
	}
	return err
}

// certificateHint tells how to trust a private CA.
func (c *command) certificateHint() {
	fmt.Fprintf(c.stderr, "xmppconn %s: the server's certificate is not trusted; for a private CA, pass its certificate with --ca-file FILE\n", c.name)
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
