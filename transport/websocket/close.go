package websocket

import (
	"context"
	"errors"
	"time"

	coder "github.com/coder/websocket"

	"github.com/xmppconn/xmppconn/transport"
)

// Bounds of Close, each also bounded by the caller's ctx.
var (
	// closeWait bounds the wait for the server's <close/> after ours.
	closeWait = 2 * time.Second
	// handshakeWait bounds the WebSocket close handshake; after it the
	// connection is cut.
	handshakeWait = time.Second
)

// errCloseTimeout is returned by Close when the server did not answer our
// <close/> in time; the connection is released all the same.
var errCloseTimeout = errors.New("websocket: close: no <close/> from the server in time")

// Close ends the stream politely and releases the connection: it sends
// <close/> (when the stream is open and no <close/> was sent), waits for the
// server's <close/> (at most ctx and 2 s), then closes the WebSocket with
// status 1000 (the handshake bounded by ctx and 1 s, after which the
// connection is cut). It never hangs on an unresponsive server. A
// ReadElement blocked meanwhile returns an error. Close may be called more
// than once and from any goroutine; later calls wait for the first (bounded
// by their ctx) and return nil.
func (c *Conn) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		select {
		case <-c.closed:
		case <-ctx.Done():
		}
		return nil
	}
	c.closing = true
	c.mu.Unlock()
	defer close(c.closed)

	c.stopPing()
	bound, cancel := context.WithTimeout(ctx, closeWait)
	err := c.closeStream(bound)
	cancel()
	c.closeWS(ctx, coder.StatusNormalClosure)
	c.setReadErr(transport.ErrClosed)
	return err
}

// Abort cuts the connection at once: no <close/>, no close handshake. The
// server sees a connection lost, and keeps a XEP-0198 session for
// resumption.
func (c *Conn) Abort() {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		c.kill() // a Close under way stops waiting for the server
		return
	}
	c.closing = true
	c.mu.Unlock()
	defer close(c.closed)
	c.stopPing()
	c.kill()
	c.setReadErr(transport.ErrClosed)
}

// closeStream sends our <close/> if due and waits (bounded by ctx) for the
// server's, reading it itself when no ReadElement is running.
func (c *Conn) closeStream(ctx context.Context) error {
	c.mu.Lock()
	alive := c.opened && c.readErr == nil
	send := alive && !c.closeSent
	c.closeSent = true
	c.mu.Unlock()
	if !alive {
		return nil
	}
	if send {
		if err := c.ws.Write(ctx, coder.MessageText, closeElement); err != nil {
			return nil // the connection is gone; nothing to wait for
		}
	}
	for {
		c.mu.Lock()
		if c.readErr != nil {
			c.mu.Unlock()
			return nil
		}
		if !c.reading {
			// No reader: read the server's answer here. Close set closing,
			// so no ReadElement can start meanwhile.
			c.reading = true
			c.readDone = make(chan struct{})
			c.mu.Unlock()
			err := c.drain(ctx)
			c.endRead()
			return err
		}
		done := c.readDone
		c.mu.Unlock()
		select {
		case <-c.ended:
			return nil
		case <-done: // the reader returned; take over
		case <-ctx.Done():
			return errCloseTimeout
		}
	}
}

// drain reads until the server's <close/> (or the end of the connection),
// dropping what comes before it.
func (c *Conn) drain(ctx context.Context) error {
	for {
		f, err := c.readFrame(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return errCloseTimeout
			}
			return nil
		}
		if f.kind == kindClose {
			c.setReadErr(transport.ErrClosed)
			return nil
		}
	}
}

// closeWS closes the WebSocket with code, once, waiting for the close
// handshake at most ctx and handshakeWait; then it cuts the connection.
func (c *Conn) closeWS(ctx context.Context, code coder.StatusCode) {
	c.wsOnce.Do(func() {
		go func() {
			defer close(c.wsDone)
			c.recordClose(code, c.ws.Close(code, ""))
		}()
	})
	t := time.NewTimer(handshakeWait)
	defer t.Stop()
	select {
	case <-c.wsDone:
		return
	case <-t.C:
	case <-ctx.Done():
	}
	c.kill()
	// With the connection cut, coder's Close returns at once; the timer
	// only guards against a surprise in it.
	t.Reset(handshakeWait)
	select {
	case <-c.wsDone:
	case <-t.C:
	}
}

// recordClose records the close code the server echoed in the close
// handshake we started with sent (coder's Close returns nil when the echo
// matches), unless a code is already known.
func (c *Conn) recordClose(sent coder.StatusCode, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeCode != 0 {
		return
	}
	switch {
	case c.killed: // coder's Close reports a cut connection as success
		c.closeCode = int(coder.StatusAbnormalClosure)
	case err == nil:
		c.closeCode = int(sent)
	case coder.CloseStatus(err) != -1:
		c.closeCode = int(coder.CloseStatus(err))
	default:
		c.closeCode = int(coder.StatusAbnormalClosure)
	}
}

// kill cuts the connection under coder/websocket: every blocked read, write
// and close handshake returns.
func (c *Conn) kill() {
	c.mu.Lock()
	c.killed = true
	c.mu.Unlock()
	if c.raw != nil {
		_ = c.raw.Close()
		return
	}
	go func() { _ = c.ws.CloseNow() }()
}
