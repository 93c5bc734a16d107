package xmppconn

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mellium.im/xmpp"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/burst"
	"github.com/xmppconn/xmppconn/transport"
)

// link is one live stream: a transport with its read and ping loops.
type link struct {
	tc   transport.Conn
	ctrl chan []byte   // answers the processor owes the server, written by payDebts
	rx   atomic.Int64  // UnixNano of the last element received
	stop chan struct{} // closed when the stream is no longer the live one
	once sync.Once

	inq burst.Queue[inbound] // what the read loop got, for the processor

	kmu sync.Mutex
	ka  keepalive // liveness checks (keepalive.go)
}

func newLink(tc transport.Conn) *link {
	l := &link{tc: tc, stop: make(chan struct{}), ctrl: make(chan []byte, 16)}
	l.rx.Store(time.Now().UnixNano())
	return l
}

func (l *link) close() {
	l.once.Do(func() {
		close(l.stop)
		l.stopKeepalive()
	})
}

func (l *link) lastRx() time.Time { return time.Unix(0, l.rx.Load()) }

// pingPrefix marks the ids of the client's own liveness pings.
const pingPrefix = "xmppconn-ping-"

// readLoop reads one element of the live stream, hands it to the link's
// processor and passes the reading on to a new goroutine. It does nothing
// else, so that the goroutine an idle session keeps blocked in the
// transport has a small stack (4 KiB): a goroutine's stack grows with the
// deepest call it ever made and, once grown, a goroutine blocked in the
// transport keeps it. The parsing, the bookkeeping and the events run on
// the processor, which exists only while elements wait.
func (c *Connection) readLoop(l *link) {
	defer c.loops.Done()
	elem, err := l.tc.ReadElement(context.Background())
	if err != nil {
		c.queueInbound(l, inbound{err: err})
		return
	}
	l.rx.Store(time.Now().UnixNano())
	c.queueInbound(l, inbound{elem: elem})
	c.loops.Add(1) // before Done: Disconnect's wait cannot end in between
	c.startRead(l)
}

// startRead starts the next readLoop of l, counted in c.loops by the
// caller: at once, or, when the transport can tell (BOSH), once an element
// is there to read, so that an idle BOSH session keeps no goroutine
// waiting for it.
func (c *Connection) startRead(l *link) {
	if n, ok := l.tc.(transport.ReadNotifier); ok {
		n.NotifyReadable(func() { go c.readLoop(l) })
		return
	}
	go c.readLoop(l)
}

// inbound is one thing the read loop got: an element, or the error that
// ended the stream.
type inbound struct {
	elem []byte
	err  error
}

// queueInbound queues in for the link's processor, starting it if needed.
// The read loop holds one of c.loops while it calls, so adding the
// processor there is safe against Disconnect's wait.
func (c *Connection) queueInbound(l *link, in inbound) {
	if l.inq.Push(in) {
		c.loops.Add(1)
		go c.processInbound(l)
	}
}

// processInbound handles the queued elements of l in order until none is
// left, or until the stream is lost.
func (c *Connection) processInbound(l *link) {
	defer c.loops.Done()
	for {
		in, ok := l.inq.Next()
		if !ok {
			return
		}
		if err := c.handleInbound(l, in); err != nil {
			l.inq.Stop() // what the read loop still gets is for a dead stream
			c.lost(l, err)
		}
	}
}

// handleInbound handles one element of the live stream: stanzas go to the
// Handler, stream management and the client's own pings are handled here.
// An error means the stream is lost.
func (c *Connection) handleInbound(l *link, in inbound) error {
	if in.err != nil {
		return in.err
	}
	elem := in.elem
	r, err := rootOf(elem)
	if err != nil {
		return &ProtocolError{Step: "read", Msg: "malformed element", Err: err}
	}
	switch {
	case r.Name.Space == nsSM:
		return c.handleSM(l, r)
	case r.isStanza():
		if c.inCounting.Load() {
			c.inH.Add(1)
		}
		c.handleStanza(l, r, elem)
	case r.is(nsStream, "error"):
		return parseStreamError(elem)
	default:
		c.log.Debug("xmppconn: ignoring stream-level element", "name", r.Name.Local, "ns", r.Name.Space)
	}
	return nil
}

// handleStanza answers pings, takes the answers to the client's own pings,
// and hands everything else to the session.
func (c *Connection) handleStanza(l *link, r root, elem []byte) {
	if r.Name.Local == "iq" {
		typ, id := r.attr("type"), r.attr("id")
		switch {
		case typ == "get" && isPing(elem):
			c.owe(l, pingAnswer(r))
			return
		case (typ == "result" || typ == "error") && strings.HasPrefix(id, pingPrefix):
			c.pongArrived(l, id)
			return
		}
	}
	c.inspect(r, elem)
	c.deliver(l, r, elem)
}

// handleSM handles the XEP-0198 elements of a live stream.
func (c *Connection) handleSM(l *link, r root) error {
	switch r.Name.Local {
	case "r":
		c.owe(l, nil) // nil: an <a/> with h as it is when sent
	case "a":
		h, err := parseH(r.attr("h"))
		if err != nil {
			return err
		}
		c.out.noteAck(h)
	case "enabled":
		resume := r.attr("resume") == "true" || r.attr("resume") == "1"
		c.out.enabled(r.attr("id"), resume)
		c.inCounting.Store(true)
		c.log.Debug("xmppconn: stream management enabled", "resumable", resume)
	case "failed":
		// The server refused <enable/>: the session goes on without it.
		c.out.refused()
		c.log.Debug("xmppconn: stream management refused by the server")
	}
	return nil
}

// isPing reports whether an IQ get is an XEP-0199 ping.
func isPing(elem []byte) bool {
	var v struct {
		Ping *struct{} `xml:"urn:xmpp:ping ping"`
	}
	return xml.Unmarshal(elem, &v) == nil && v.Ping != nil
}

// pingAnswer is the answer to a server's XEP-0199 ping, which the client
// gives whatever the Handler does.
func pingAnswer(r root) []byte {
	to := ""
	if from := r.attr("from"); from != "" {
		to = fmt.Sprintf(" to='%s'", xmlEscape(from))
	}
	return []byte(fmt.Sprintf("<iq xmlns='jabber:client' type='result' id='%s'%s/>", xmlEscape(r.attr("id")), to))
}

// payDebt sends an answer the read loop queued: an XEP-0198 <a/> (nil) or
// a stanza.
func (c *Connection) payDebt(elem []byte) {
	if elem == nil {
		c.out.write(smAnswer(c.inH.Load()))
		return
	}
	if err := c.out.send(elem); err != nil {
		c.log.Debug("xmppconn: answering the server", "err", err)
	}
}

// serve runs the mellium session's read side until the pipe closes, once
// the stanzas the dispatcher had are handled (ready).
func (c *Connection) serve(sess *xmpp.Session, ready <-chan struct{}) {
	defer c.loops.Done()
	<-ready
	if err := sess.Serve(handlerAdapter{c: c, h: c.cfg.Handler}); err != nil {
		c.log.Debug("xmppconn: session handler", "err", err)
		c.mu.Lock()
		l := c.link
		c.mu.Unlock()
		if l != nil {
			c.lost(l, err)
		}
	}
}

// lost handles the end of a live stream that the client did not ask for.
// The connection goes DISCONNECTED; then, when the cause may heal and
// recovery is on, it resumes or reconnects in the background, else it ends
// in FAILED with exactly one ConnectionFailed.
func (c *Connection) lost(l *link, err error) {
	c.mu.Lock()
	if c.closing || c.link != l {
		c.mu.Unlock()
		return
	}
	c.link, c.conn = nil, nil
	c.lastRx = l.lastRx()
	l.close()
	c.transitionLocked(events.StateDisconnected)
	follow, err := c.liveRedirectLocked(err)
	if c.cfg.Reconnect.Disabled || (!follow && !retryable(err)) {
		c.finishLocked(c.failure(err, l.tc, true))
		c.mu.Unlock()
		c.log.Debug("xmppconn: session lost for good", "err", err)
		closeQuietly(l.tc) // also unblocks a writer stuck on the dead stream
		c.out.reset()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.loops.Add(1)
	c.mu.Unlock()
	c.log.Debug("xmppconn: session lost, recovering", "err", err)
	closeQuietly(l.tc) // also unblocks a writer stuck on the dead stream
	c.out.down()
	go c.recover(ctx, err, l.tc.Status())
}

// finishLocked ends the connection in FAILED with f: the state, the event,
// and the end of the session. Called with c.mu held, in a state from which
// FAILED is legal; the caller then closes the transport and resets the
// outbox, outside the lock.
func (c *Connection) finishLocked(f *events.Failed) {
	f.Details.SuspendTimeMS = time.Duration(c.suspendMax.Load()).Milliseconds()
	if !c.lastRx.IsZero() {
		f.Details.TimeSinceLastSuccessMS = time.Since(c.lastRx).Milliseconds()
	}
	c.transitionLocked(events.StateFailed)
	c.em.Emit(f)
	if c.pipe != nil {
		c.pipe.close()
	}
	c.sess, c.pipe, c.bound = nil, nil, false
	c.disp.reset()
}

// abort ends the live session for a reason found above the transport (a
// conference that is not live, a moved shard): f is the ConnectionFailed
// payload. It does nothing when the session is not up.
func (c *Connection) abort(f *events.Failed) {
	c.mu.Lock()
	l := c.link
	if c.closing || l == nil {
		c.mu.Unlock()
		return
	}
	c.link, c.conn = nil, nil
	c.lastRx = l.lastRx()
	l.close()
	c.transitionLocked(events.StateDisconnected)
	c.finishLocked(f)
	c.mu.Unlock()
	closeQuietly(l.tc)
	c.out.reset()
}

// Disconnect closes the connection: CLOSING, then CLOSED and
// ConnectionDisconnected. It cancels a Connect or a recovery in progress,
// closes the stream politely (bounded by ctx) and returns once the
// connection's goroutines have ended. On a connection that is CLOSED or
// FAILED it only waits for what is left and emits nothing.
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
	cancel, attempt, l := c.cancel, c.attempt, c.link
	c.link, c.conn = nil, nil
	c.mu.Unlock()
	c.stopShardCheck()

	if cancel != nil {
		cancel()
	}
	if attempt != nil {
		<-attempt // the attempt's own I/O is bounded by the cancelled context
	}
	var err error
	if l != nil {
		l.close()
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		err = l.tc.Close(cctx)
		ccancel()
	}
	c.out.reset()

	c.mu.Lock()
	pipe := c.pipe
	c.sess, c.pipe, c.bound = nil, nil, false
	c.disp.reset()
	c.mu.Unlock()
	if pipe != nil {
		pipe.close()
	}
	c.loops.Wait()

	c.mu.Lock()
	c.transitionLocked(events.StateClosed)
	c.em.Emit(events.Disconnected{Message: "closed by the client"})
	c.mu.Unlock()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}
