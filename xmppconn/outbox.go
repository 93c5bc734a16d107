package xmppconn

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xmppconn/xmppconn/transport"
)

// writeTimeout bounds one write on the transport; a write that cannot finish
// in that time means the connection is dead.
const writeTimeout = 30 * time.Second

// sentStanza is an outbound stanza and when it was first sent.
type sentStanza struct {
	elem    []byte
	at      time.Time
	delayed bool // elem already carries an XEP-0203 delay
}

// outbox is the outbound path of a Connection: the one writer on the
// transport, the XEP-0198 bookkeeping of unacknowledged stanzas, and the
// queue of stanzas sent while the session is down. Stanzas leave in the
// order they were sent, across resumptions and fresh sessions.
type outbox struct {
	mu       sync.Mutex
	tc       transport.Conn // nil while the session is down
	sm       bool           // stanzas are counted (enable sent, not refused)
	unacked  []sentStanza   // sent on an SM stream, not acknowledged yet
	acked    uint32         // the last h the server acknowledged
	sinceReq int            // stanzas sent since the last <r/>
	queue    []sentStanza   // sent while down, in order
	ackEvery int
	limit    int

	rewrite []sentStanza // unacked stanzas to write again after a resumption

	// What the server said to <enable/>.
	id        string // the SM-ID, for <resume previd=…/>
	resumable bool

	// The latest <a h='…'/> from the processor, applied under mu at the next
	// send: the processor never waits for the writer, which may be blocked
	// on a full connection that only reading can drain.
	serverH    atomic.Uint32
	hasServerH atomic.Bool
	ackErr     error // the last bookkeeping error, for logs

	// wtimer closes wtc when one write on it takes longer than
	// writeTimeout: armed and stopped around each write, so that a write
	// allocates no timer of its own. Writes get a context that never ends
	// (a cancellable one would cost the transport a registration per write
	// and keep it while the session is idle).
	wtc    transport.Conn
	wtimer *time.Timer
}

// noteAck records an <a/> from the server without taking the lock.
func (o *outbox) noteAck(h uint32) {
	o.serverH.Store(h)
	o.hasServerH.Store(true)
}

// applyAcksLocked releases what the last noted <a/> acknowledged.
func (o *outbox) applyAcksLocked() {
	if o.hasServerH.Swap(false) {
		if err := o.ackLocked(o.serverH.Load()); err != nil {
			o.ackErr = err
		}
	}
}

func (o *outbox) configure(ackEvery, limit int) {
	o.mu.Lock()
	o.ackEvery, o.limit = ackEvery, limit
	o.mu.Unlock()
}

// send sends one stanza, or queues it while the session is down.
func (o *outbox) send(elem []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sendLocked(sentStanza{elem: elem, at: time.Now()})
}

func (o *outbox) sendLocked(s sentStanza) error {
	o.applyAcksLocked()
	if o.tc == nil {
		if len(o.queue) >= o.limit {
			return ErrQueueFull
		}
		o.queue = append(o.queue, s)
		return nil
	}
	if o.sm {
		o.unacked = append(o.unacked, s)
		o.sinceReq++
	}
	if err := o.writeLocked(s.elem); err != nil {
		// The connection is failing; the read loop or the pings will
		// notice. Keep the stanza to send it again on the next stream.
		if !o.sm {
			o.queue = append(o.queue, s)
		}
		o.tc = nil
		return nil
	}
	if o.sm && o.sinceReq >= o.ackEvery {
		o.requestAckLocked()
	}
	return nil
}

// write sends a stream-level element (an SM answer) on the live stream;
// while the session is down it is dropped, as it has no meaning on the next
// stream.
func (o *outbox) write(elem []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.tc != nil {
		_ = o.writeLocked(elem)
	}
}

func (o *outbox) writeLocked(elem []byte) error {
	if o.wtc != o.tc {
		if o.wtimer != nil {
			o.wtimer.Stop()
		}
		tc := o.tc
		o.wtimer = time.AfterFunc(writeTimeout, func() { closeQuietly(tc) })
		o.wtimer.Stop()
		o.wtc = tc
	}
	o.wtimer.Reset(writeTimeout)
	err := o.tc.WriteElement(context.Background(), elem)
	o.wtimer.Stop()
	return err
}

// requestAck asks the server for an acknowledgement when stanzas are
// waiting for one (the idle request of XEP-0198).
func (o *outbox) requestAck() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.applyAcksLocked()
	if o.tc != nil && o.sm && len(o.unacked) > 0 {
		o.requestAckLocked()
	}
}

func (o *outbox) requestAckLocked() {
	o.sinceReq = 0
	_ = o.writeLocked([]byte(smRequest))
}

// ack releases the stanzas the server acknowledged with h. h counts modulo
// 2^32, so the difference is taken in uint32.
func (o *outbox) ack(h uint32) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.ackLocked(h)
}

func (o *outbox) ackLocked(h uint32) error {
	if int32(h-o.acked) < 0 {
		return nil // older than what is already acknowledged (modulo 2^32)
	}
	n := h - o.acked
	if int64(n) > int64(len(o.unacked)) {
		// The server acknowledges more than was sent: its count and ours
		// disagree. Trust it and release everything.
		o.unacked, o.acked = nil, h
		return &ProtocolError{Step: "stream management", Msg: "server acknowledged more stanzas than were sent"}
	}
	o.unacked = o.unacked[n:]
	if len(o.unacked) == 0 {
		o.unacked = nil
	}
	o.acked = h
	return nil
}

// enabled records the server's <enabled/>.
func (o *outbox) enabled(id string, resumable bool) {
	o.mu.Lock()
	o.id, o.resumable = id, resumable && id != ""
	o.mu.Unlock()
}

// refused records that the server refused <enable/>: the session goes on
// without stream management.
func (o *outbox) refused() {
	o.mu.Lock()
	o.hasServerH.Store(false)
	o.sm, o.unacked, o.acked, o.sinceReq = false, nil, 0, 0
	o.id, o.resumable = "", false
	o.mu.Unlock()
}

// resumeID returns the SM-ID to resume with, or "" when the stream cannot
// be resumed.
func (o *outbox) resumeID() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.resumable {
		return ""
	}
	return o.id
}

// down marks the session as down: sends are queued from now on.
func (o *outbox) down() {
	o.mu.Lock()
	o.tc = nil
	o.mu.Unlock()
}

// prepareResumed readies the outbox for a resumed stream, before its read
// loop starts: the stanzas the server acknowledged in <resumed h='…'/> are
// released, the rest wait to be written again as they were. Sends queue
// until attach.
func (o *outbox) prepareResumed(h uint32) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.applyAcksLocked() // what the old stream acknowledged last
	o.tc = nil
	err := o.ackLocked(h)
	o.rewrite = append([]sentStanza(nil), o.unacked...)
	return err
}

// prepareFresh readies the outbox for a new session (a first connect, or a
// resumption that failed), before its read loop starts: what was never
// acknowledged goes to the head of the queue — messages with an XEP-0203
// delay saying when they were first sent — and counting restarts. sm tells
// whether <enable/> was sent on this stream. Sends queue until attach.
func (o *outbox) prepareFresh(sm bool, from string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.applyAcksLocked()
	again := make([]sentStanza, 0, len(o.unacked)+len(o.queue))
	for _, s := range o.unacked {
		if !s.delayed {
			s = sentStanza{elem: withDelay(s.elem, s.at, from), at: s.at, delayed: true}
		}
		again = append(again, s)
	}
	o.queue = append(again, o.queue...)
	o.tc, o.sm, o.unacked, o.acked, o.sinceReq, o.rewrite = nil, sm, nil, 0, 0, nil
	o.id, o.resumable = "", false
}

// attach makes tc the live stream: the stanzas of a resumption are written
// again, then the queue, before any new send.
func (o *outbox) attach(tc transport.Conn) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tc = tc
	for _, s := range o.rewrite {
		if o.tc == nil {
			break
		}
		if err := o.writeLocked(s.elem); err != nil {
			o.tc = nil
		}
	}
	o.rewrite = nil
	o.flushQueueLocked()
}

// resumed brings the session back on tc after <resumed h='…'/>.
func (o *outbox) resumed(tc transport.Conn, h uint32) error {
	err := o.prepareResumed(h)
	o.attach(tc)
	return err
}

// fresh brings the session back on tc as a new session.
func (o *outbox) fresh(tc transport.Conn, sm bool, from string) {
	o.prepareFresh(sm, from)
	o.attach(tc)
}

func (o *outbox) flushQueueLocked() {
	q := o.queue
	o.queue = nil
	for _, s := range q {
		_ = o.sendLocked(s)
	}
}

// reset forgets everything: the session is over.
func (o *outbox) reset() {
	o.mu.Lock()
	o.hasServerH.Store(false)
	o.tc, o.sm, o.unacked, o.acked, o.sinceReq, o.queue, o.rewrite = nil, false, nil, 0, 0, nil, nil
	o.id, o.resumable = "", false
	o.mu.Unlock()
}

// pending returns the number of unacknowledged and queued stanzas.
func (o *outbox) pending() (unacked, queued int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.unacked), len(o.queue)
}
