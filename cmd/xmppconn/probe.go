package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/xmppconn/xmppconn/xmppconn"
)

// probe connects once, prints the lifecycle and disconnects.
func probe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f connFlags
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: xmppconn probe [flags] URL\n\nURL is ws:// or wss:// (WebSocket) or http:// or https:// (BOSH).\n\nflags:")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if isHelp(err) {
			return exitOK
		}
		return exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "xmppconn probe: want exactly one URL")
		fs.Usage()
		return exitUsage
	}
	cfg, err := f.config(pos[0], getenv, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "xmppconn probe:", err)
		return exitUsage
	}

	p := &printer{w: stdout, json: f.json}
	conn := xmppconn.New(cfg)
	conn.OnAny(p.print)

	p.start = time.Now()
	cctx, cancel := context.WithTimeout(ctx, f.timeout)
	err = conn.Connect(cctx)
	cancel()
	code := exitOK
	if err != nil {
		code = exitFailed
	} else {
		dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := conn.Disconnect(dctx); err != nil {
			fmt.Fprintln(stderr, "xmppconn probe: disconnect:", err)
			code = exitFailed
		}
		dcancel()
	}
	fctx, fcancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = conn.Flush(fctx)
	fcancel()
	return code
}
