package xmppconn

import (
	"context"
	"encoding/xml"
	"fmt"
	"time"

	"mellium.im/xmpp"
	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/transport"
)

// writeElement sends one element on the transport; one writer at a time.
func (c *Connection) writeElement(tc transport.Conn, elem []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return tc.WriteElement(context.Background(), elem)
}

// readLoop reads the live session's elements and hands stanzas to the
// mellium session. It ends when the transport fails or closes.
func (c *Connection) readLoop(tc transport.Conn, pipe *stanzaPipe) {
	defer c.loops.Done()
	for {
		elem, err := tc.ReadElement(context.Background())
		if err != nil {
			c.lost(tc, err)
			return
		}
		r, err := rootOf(elem)
		if err != nil {
			c.lost(tc, &ProtocolError{Step: "read", Msg: "malformed element", Err: err})
			return
		}
		switch {
		case r.is(stanza.NSClient, "iq") && r.attr("type") == "get" && isPing(elem):
			c.answerPing(tc, r)
		case r.isStanza():
			c.inspect(r, elem)
			pipe.deliver(elem)
		case r.is(nsStream, "error"):
			c.lost(tc, parseStreamError(elem))
			return
		default:
			c.log.Debug("xmppconn: ignoring stream-level element", "name", r.Name.Local, "ns", r.Name.Space)
		}
	}
}

// isPing reports whether an IQ get is an XEP-0199 ping.
func isPing(elem []byte) bool {
	var v struct {
		Ping *struct{} `xml:"urn:xmpp:ping ping"`
	}
	return xml.Unmarshal(elem, &v) == nil && v.Ping != nil
}

// answerPing answers a server's XEP-0199 ping, whatever the Handler does.
func (c *Connection) answerPing(tc transport.Conn, r root) {
	to := ""
	if from := r.attr("from"); from != "" {
		to = fmt.Sprintf(" to='%s'", xmlEscape(from))
	}
	resp := fmt.Sprintf("<iq xmlns='jabber:client' type='result' id='%s'%s/>", xmlEscape(r.attr("id")), to)
	if err := c.writeElement(tc, []byte(resp)); err != nil {
		c.log.Debug("xmppconn: answering ping", "err", err)
	}
}

// serve runs the mellium session's read side until the pipe closes.
func (c *Connection) serve(tc transport.Conn, sess *xmpp.Session) {
	defer c.loops.Done()
	h := c.cfg.Handler
	err := sess.Serve(h)
	if err != nil {
		c.lost(tc, err)
	}
}

// lost handles the end of a live session that the client did not ask for:
// CONNECTED -> DISCONNECTED -> FAILED with exactly one ConnectionFailed.
func (c *Connection) lost(tc transport.Conn, err error) {
	c.end(tc, func() *events.Failed { return c.failure(err, tc, true) })
}

// abort ends the live session for a reason found above the transport (a
// conference that is not live, a moved shard): f is the ConnectionFailed
// payload. It does nothing when the session is not up.
func (c *Connection) abort(f *events.Failed) {
	c.mu.Lock()
	tc := c.conn
	c.mu.Unlock()
	if tc == nil {
		return
	}
	c.end(tc, func() *events.Failed { return f })
}

// end tears down the live session on tc, if it is still the current one and
// the user is not disconnecting, and reports the failure mk builds (called
// with c.mu held).
func (c *Connection) end(tc transport.Conn, mk func() *events.Failed) {
	c.mu.Lock()
	if c.closing || c.conn != tc {
		c.mu.Unlock()
		return
	}
	pipe := c.pipe
	c.conn, c.sess, c.pipe = nil, nil, nil
	f := mk()
	c.transitionLocked(events.StateDisconnected)
	c.transitionLocked(events.StateFailed)
	c.em.Emit(f)
	c.mu.Unlock()
	c.log.Debug("xmppconn: session lost", "error", string(f.Err), "reason", f.Reason)
	if pipe != nil {
		pipe.close()
	}
	closeQuietly(tc)
}

// Disconnect closes the connection: CLOSING, then CLOSED and
// ConnectionDisconnected. It cancels a Connect in progress, closes the stream
// politely (bounded by ctx) and returns once the connection's goroutines have
// ended. On a connection that is CLOSED or FAILED it only releases what is
// left and emits nothing.
func (c *Connection) Disconnect(ctx context.Context) error {
	c.mu.Lock()
	st := c.states.State()
	if st == events.StateClosed || st == events.StateFailed || c.closing {
		c.mu.Unlock()
		c.loops.Wait()
		return nil
	}
	c.closing = true
	c.transitionLocked(events.StateClosing)
	cancel, attempt := c.cancel, c.attempt
	c.mu.Unlock()

	if cancel != nil {
		cancel()
	}
	if attempt != nil {
		<-attempt // the attempt's own I/O is bounded by the cancelled context
	}

	c.mu.Lock()
	tc, pipe := c.conn, c.pipe
	c.conn, c.sess, c.pipe = nil, nil, nil
	c.mu.Unlock()

	var err error
	if tc != nil {
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		err = tc.Close(cctx)
		ccancel()
	}
	if pipe != nil {
		pipe.close()
	}
	c.loops.Wait()

	c.mu.Lock()
	c.transitionLocked(events.StateClosed)
	c.em.Emit(events.Disconnected{Message: "closed by the client"})
	c.mu.Unlock()
	return err
}
