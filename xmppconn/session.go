package xmppconn

import (
	"context"
	"encoding/xml"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mellium.im/xmpp"
	"mellium.im/xmpp/stream"

	"github.com/xmppconn/xmppconn/internal/burst"
	"github.com/xmppconn/xmppconn/transport"
)

// link is one live stream: a transport with its read and ping loops.
type link struct {
	tc   transport.Conn
	ctrl chan []byte  // answers the processor owes the server, written by payDebts
	rx   atomic.Int64 // UnixNano of the last element received
	// backlog is set while the read waits for room in a full inbound queue.
	backlog atomic.Bool
	stop    chan struct{} // closed when the stream is no longer the live one
	once    sync.Once

	// ctx ends with the stream, for the goroutines of extensions (Go); made
	// on first use, so that a stream nobody asks for it keeps none.
	ctxMu  sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc

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
		l.ctxMu.Lock()
		if l.cancel != nil {
			l.cancel()
		}
		l.ctxMu.Unlock()
	})
}

// context returns the context that ends with the stream.
func (l *link) context() context.Context {
	l.ctxMu.Lock()
	defer l.ctxMu.Unlock()
	if l.ctx == nil {
		l.ctx, l.cancel = context.WithCancel(context.Background())
		select {
		case <-l.stop:
			l.cancel()
		default:
		}
	}
	return l.ctx
}

func (l *link) lastRx() time.Time { return time.Unix(0, l.rx.Load()) }

// pingPrefix marks the ids of the client's own liveness pings.
const pingPrefix = "xmppconn-ping-"

// readOnce reads one element of the live stream, hands it to the link's
// processor and starts the next read. It does nothing else, so that the
// goroutine an idle session keeps blocked in the transport has a small
// stack (4 KiB): a goroutine's stack grows with the deepest call it ever
// made and, once grown, a goroutine blocked in the transport keeps it. The
// parsing, the bookkeeping and the events run on the processor, which
// exists only while elements wait.
func (c *Connection) readOnce(l *link) {
	elem, err := l.tc.ReadElement(context.Background())
	if err != nil {
		c.queueInbound(l, inbound{err: err})
		return
	}
	l.rx.Store(time.Now().UnixNano())
	if !c.queueInbound(l, inbound{elem: elem}) {
		return // the link is closed: no more reading
	}
	c.startRead(l) // counted before this read's count is released
}

// inbound is one thing the read loop got: an element, or the error that
// ended the stream.
type inbound struct {
	elem []byte
	err  error
}

// elementOverhead is what an element in a queue costs besides its bytes.
const elementOverhead = 128

// queueInbound queues in for the link's processor, starting it if needed
// (the read calling it holds a count). While the queue is at
// Config.InboundLimit it waits for room: the client stops reading and TCP
// slows the server down. The keepalive takes the wait for a sign of life
// (the server is sending; the client is slow). It gives up when the link
// stops being the live one.
func (c *Connection) queueInbound(l *link, in inbound) bool {
	l.backlog.Store(true)
	start, queued := l.inq.PushWait(in, cap(in.elem)+elementOverhead, c.cfg.InboundLimit, l.stop)
	l.backlog.Store(false)
	if start {
		c.loops.Add(1)
		go c.processCounted(l)
	}
	return queued
}

// processInbound handles the queued elements of l in order until none is
// left, or until the stream is lost.
func (c *Connection) processInbound(l *link) {
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
		// A stanza counts for XEP-0198 once it is taken. One that the
		// stream's end caught waiting for room in the Handler's queue was
		// not: uncounted, it is sent again after a resumption, and nothing
		// after it on this stream is taken either.
		if !c.handleStanza(l, r, elem) {
			return errNotTaken
		}
		if c.inCounting.Load() {
			c.inH.Add(1)
		}
	case r.is(nsStream, "error"):
		if se, ok := parseStreamError(elem).(stream.Error); ok {
			return redactStreamError(se, c.redact)
		}
		return parseStreamError(elem)
	default:
		c.log.Debug("xmppconn: ignoring stream-level element", "name", r.Name.Local, "ns", r.Name.Space)
	}
	return nil
}

// handleStanza answers pings, takes the answers to the client's own pings,
// and hands everything else to the session. taken is false when the stanza
// was dropped (deliver).
func (c *Connection) handleStanza(l *link, r root, elem []byte) (taken bool) {
	if r.Name.Local == "iq" {
		typ, id := r.attr("type"), r.attr("id")
		switch {
		case typ == "get" && isPing(elem):
			c.owe(l, pingAnswer(r))
			return true
		case (typ == "result" || typ == "error") && strings.HasPrefix(id, pingPrefix):
			c.pongArrived(l, id)
			return true
		}
	}
	return c.inboundStanza(l, r, elem)
}

// inboundStanza passes a stanza of the session on: to the SendIQ waiting
// for it, to the extensions, then to the Handler (taken: deliver's).
func (c *Connection) inboundStanza(l *link, r root, elem []byte) (taken bool) {
	if r.Name.Local == "iq" {
		c.answerIQ(r, elem)
	}
	c.exts.inbound(r, elem)
	return c.deliver(l, r, elem)
}

// handleSM handles the XEP-0198 elements of a live stream.
func (c *Connection) handleSM(l *link, r root) error {
	switch r.Name.Local {
	case "r":
		c.ackRequested(l)
	case "a":
		h, err := parseH(r.attr("h"))
		if err != nil {
			return err
		}
		c.out.noteAck(h)
	case "enabled":
		// Its max (how long the server keeps the session) and location (an
		// endpoint to resume at) are not taken: resumption goes through the
		// same endpoint and policy as any attempt, so no number or address
		// the server picks here steers the client.
		resume := r.attr("resume") == "true" || r.attr("resume") == "1"
		c.out.enabled(r.attr("id"), resume)
		c.attemptRecord().smAnswered()
		c.inCounting.Store(true)
		c.log.Debug("xmppconn: stream management enabled", "resumable", resume)
	case "failed":
		// The server refused <enable/>: the session goes on without it.
		c.out.refused()
		c.attemptRecord().smAnswered()
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
		c.answerAck()
		return
	}
	if err := c.out.send(elem); err != nil {
		c.log.Debug("xmppconn: answering the server", "err", err)
	}
}

// serve runs the mellium session's read side until the pipe closes, once
// the stanzas the dispatcher had are handled (ready).
func (c *Connection) serve(sess *xmpp.Session, ready <-chan struct{}) {
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
