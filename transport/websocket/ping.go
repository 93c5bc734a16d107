package websocket

import (
	"context"
	"time"
)

// startPing starts the goroutine that sends a WebSocket ping every interval
// and cuts the connection when a pong does not come back within interval.
// stopPing stops it and waits for it.
func (c *Conn) startPing(interval time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	c.pingCancel = cancel
	c.pingDone = make(chan struct{})
	go func() {
		defer close(c.pingDone)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			pctx, pcancel := context.WithTimeout(ctx, interval)
			err := c.ws.Ping(pctx)
			pcancel()
			if err != nil {
				if ctx.Err() == nil {
					c.mu.Lock()
					c.pingFailed = true
					c.mu.Unlock()
					c.kill()
				}
				return
			}
		}
	}()
}

// stopPing stops the pinger, if any, and waits for it to return.
func (c *Conn) stopPing() {
	if c.pingCancel == nil {
		return
	}
	c.pingOnce.Do(c.pingCancel)
	<-c.pingDone
}
