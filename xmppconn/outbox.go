package xmppconn

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/xmppconn/xmppconn/transport"
)

// ErrQueueFull is returned by a send while the session is down and
// Config.QueueLimit stanzas are already waiting for it to come back.
var ErrQueueFull = errors.New("xmppconn: send queue full while the session is down")

// writeTimeout bounds one write on the transport; a write that cannot finish
// in that time means the connection is dead.
const writeTimeout = 30 * time.Second

// sentStanza is an outbound stanza and when it was first sent.
type sentStanza struct {
	elem []byte
	at   time.Time
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

	// What the server said to <enable/>.
	id        string // the SM-ID, for <resume previd=…/>
	resumable bool
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
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	return o.tc.WriteElement(ctx, elem)
}

// requestAck asks the server for an acknowledgement when stanzas are
// waiting for one (the idle request of XEP-0198).
func (o *outbox) requestAck() {
	o.mu.Lock()
	defer o.mu.Unlock()
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

// resumed brings the session back on tc after <resumed h='…'/>: the
// acknowledged stanzas are released and the rest are sent again as they
// were, then the queue.
func (o *outbox) resumed(tc transport.Conn, h uint32) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tc = tc
	err := o.ackLocked(h)
	for _, s := range o.unacked {
		if o.tc == nil {
			break
		}
		if e := o.writeLocked(s.elem); e != nil {
			o.tc = nil
		}
	}
	o.flushQueueLocked()
	return err
}

// fresh brings the session back on tc as a new session (a first connect, or
// a resumption that failed): what was never acknowledged is sent again,
// messages with an XEP-0203 delay saying when they were first sent, then
// the queue. sm tells whether <enable/> was sent on this stream.
func (o *outbox) fresh(tc transport.Conn, sm bool, from string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	again := o.unacked
	o.tc, o.sm, o.unacked, o.acked, o.sinceReq = tc, sm, nil, 0, 0
	o.id, o.resumable = "", false
	for _, s := range again {
		_ = o.sendLocked(sentStanza{elem: withDelay(s.elem, s.at, from), at: s.at})
	}
	o.flushQueueLocked()
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
	o.tc, o.sm, o.unacked, o.acked, o.sinceReq, o.queue = nil, false, nil, 0, 0, nil
	o.id, o.resumable = "", false
	o.mu.Unlock()
}

// pending returns the number of unacknowledged and queued stanzas.
func (o *outbox) pending() (unacked, queued int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.unacked), len(o.queue)
}
