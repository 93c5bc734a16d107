package main

import (
	"context"
	"io"
)

// probe connects once, prints the lifecycle and disconnects.
func probe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c, code := newCommand("probe", "URL is ws:// or wss:// (WebSocket) or http:// or https:// (BOSH); a DOMAIN\n(example.com, or host:port) is looked up in its host-meta (XEP-0156).", args, stdout, stderr, getenv)
	if c == nil {
		return code
	}
	code = exitOK
	if err := c.connect(ctx); err != nil {
		code = exitFailed
	} else if err := c.disconnect(); err != nil {
		code = exitFailed
	}
	c.flush()
	return code
}
