package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// watch connects and stays connected (pings, resumption, reconnection),
// printing every event until interrupted; then it closes cleanly.
func watch(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f connFlags
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: xmppconn watch [flags] URL\n\nConnect and stay connected, printing every event until interrupted (SIGINT closes cleanly).\n\nflags:")
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
		fmt.Fprintln(stderr, "xmppconn watch: want exactly one URL")
		fs.Usage()
		return exitUsage
	}
	cfg, err := f.config(pos[0], getenv, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "xmppconn watch:", err)
		return exitUsage
	}

	p := &printer{w: stdout, json: f.json}
	conn := xmppconn.New(cfg)
	conn.OnAny(p.print)
	failed := make(chan struct{}, 1)
	conn.On(events.ConnectionFailed, func(events.Event) {
		select {
		case failed <- struct{}{}:
		default:
		}
	})

	p.start = time.Now()
	cctx, cancel := context.WithTimeout(ctx, f.timeout)
	err = conn.Connect(cctx)
	cancel()
	code := exitOK
	if err != nil {
		code = exitFailed
	} else {
		select {
		case <-ctx.Done(): // interrupted: close cleanly
		case <-failed: // lost for good after the recovery attempts
			code = exitFailed
		}
		dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := conn.Disconnect(dctx); err != nil {
			fmt.Fprintln(stderr, "xmppconn watch: disconnect:", err)
		}
		dcancel()
	}
	fctx, fcancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = conn.Flush(fctx)
	fcancel()
	return code
}
