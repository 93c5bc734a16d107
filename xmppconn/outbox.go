package xmppconn

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xmppconn/xmppconn/transport"
)

// closeBound bounds the close of a stream the outbox found dead.
const closeBound = 2 * time.Second

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
// queue of stanzas accepted but not written: sent while the session is
// down, or held while the unacknowledged ones are at their bound. Stanzas
// leave in the order they were sent, across resumptions and fresh
// sessions.
//
// The ack policy (StreamManagementConfig) is here: an <r/> goes out once
// half of the bound waits for an ack, when the outgoing stanzas pause for
// the idle delay, or at the latest the maximum delay after the first
// stanza no request covers yet. The last two run on ackTimer, armed only
// while stanzas wait for a request or for room.
type outbox struct {
	mu           sync.Mutex
	tc           transport.Conn // nil while the session is down
	sm           bool           // stanzas are counted (enable sent, not refused)
	unacked      []sentStanza   // sent on an SM stream, not acknowledged yet
	unackedBytes int            // their size
	acked        uint32         // the last h the server acknowledged
	queue        []sentStanza   // accepted, not written yet: while down, or held for room; in order
	limit        int            // bound of queue
	policy       ackPolicy
	session      uint64 // counts reset: a sender waiting across one gives up

	// The stanzas sent since the last <r/> (none: every unacknowledged
	// stanza is covered by a request).
	sinceReq, sinceReqBytes int
	firstUnreq              time.Time // when the first of them was sent
	lastSend                time.Time // when the last stanza was written

	// ackTimer requests acks on pauses and delays, and writes the held
	// stanzas once acks made room: made by configure, never replaced, so
	// that noteAck can kick it without the lock.
	ackTimer *time.Timer
	timerDue time.Time   // when ackTimer fires; zero while stopped
	held     atomic.Bool // stanzas are held on a live stream
	kicked   atomic.Bool // noteAck made ackTimer fire now; not yet run

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

	// Senders waiting for room (sendWait) wait on roomCh, closed (under
	// roomMu, never held while blocking) when an ack arrives or the stream
	// goes down.
	waiting atomic.Int32
	roomMu  sync.Mutex
	roomCh  chan struct{}

	// ackOwed is the stream whose <r/> awaits the <a/> a payer will write:
	// the requests read before that answer is written all get it.
	ackOwed atomic.Pointer[link]

	// wtimer closes wtc when one write on it takes longer than
	// writeTimeout: armed and stopped around each write, so that a write
	// allocates no timer of its own. Writes get a context that never ends
	// (a cancellable one would cost the transport a registration per write
	// and keep it while the session is idle).
	wtc    transport.Conn
	wtimer *time.Timer
}

// ackPolicy is StreamManagementConfig with its defaults, as the outbox
// uses it.
type ackPolicy struct {
	maxUnacked, maxBytes int
	idle, maxDelay       time.Duration
	wait                 time.Duration // ackWait
}

// ackWait bounds how long a sender waits for the server to acknowledge
// stanzas at the bound: a server that answers no <r/> for that long is
// gone, as a write that cannot finish in writeTimeout.
const ackWait = writeTimeout

// noteAck records an <a/> from the server without taking the lock, and
// wakes the senders waiting for room.
func (o *outbox) noteAck(h uint32) {
	o.serverH.Store(h)
	o.hasServerH.Store(true)
	if o.waiting.Load() > 0 {
		o.wake()
	}
	if o.held.Load() && o.kicked.CompareAndSwap(false, true) {
		o.ackTimer.Reset(0) // writes what the ack made room for
	}
}

// applyAcksLocked releases what the last noted <a/> acknowledged.
func (o *outbox) applyAcksLocked() {
	if o.hasServerH.Swap(false) {
		if err := o.ackLocked(o.serverH.Load()); err != nil {
			o.ackErr = err
		}
	}
}

func (o *outbox) configure(sm StreamManagementConfig, limit int) {
	o.mu.Lock()
	o.policy = ackPolicy{sm.MaxUnacked, sm.MaxUnackedBytes, sm.RequestIdle, sm.RequestMaxDelay, ackWait}
	o.limit = limit
	if o.ackTimer == nil {
		o.ackTimer = time.AfterFunc(time.Hour, o.ackTimerFired)
		o.ackTimer.Stop()
	}
	o.mu.Unlock()
}

// send sends one stanza, or queues it while the session is down or while
// the unacknowledged stanzas are at their bound. It never waits for the
// server: for the stanzas the Connection sends itself.
func (o *outbox) send(elem []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sendLocked(sentStanza{elem: elem, at: time.Now()})
}

// sendWait sends one stanza like send, but at the bound of unacknowledged
// stanzas it waits for the server's ack first (bounded by ctx and ackWait),
// so that a fast sender is paced by the server. After ackWait the stream
// counts as dead: its transport is closed and the stanza is queued for the
// next one. An error from ctx means the stanza was not sent.
func (o *outbox) sendWait(ctx context.Context, elem []byte) error {
	s := sentStanza{elem: elem, at: time.Now()}
	o.mu.Lock()
	if o.canSendLocked(len(elem)) {
		err := o.sendLocked(s)
		o.mu.Unlock()
		return err
	}
	o.mu.Unlock()
	return o.waitAndSend(ctx, s)
}

// canSendLocked releases what the server acknowledged, writes the held
// stanzas there is room for, and reports whether a stanza of n bytes may
// be sent now (or queued, while the session is down) rather than wait.
func (o *outbox) canSendLocked(n int) bool {
	o.applyAcksLocked()
	o.flushHeldLocked()
	return o.tc == nil || !o.sm || (len(o.queue) == 0 && o.roomLocked(n))
}

// waitAndSend waits for room for s, then sends it (see sendWait).
func (o *outbox) waitAndSend(ctx context.Context, s sentStanza) error {
	var deadline *time.Timer
	defer func() {
		if deadline != nil {
			deadline.Stop()
		}
	}()
	o.mu.Lock()
	session := o.session
	o.mu.Unlock()
	for {
		// Counted as waiting before the signal is taken and the acks are
		// read again: an ack noted meanwhile is either read here or wakes
		// this signal.
		o.waiting.Add(1)
		room := o.roomSignal()
		o.mu.Lock()
		if o.session != session {
			// The session ended meanwhile (Disconnect, FAILED): s must not
			// wait for the next one.
			o.waiting.Add(-1)
			o.mu.Unlock()
			return ErrNotConnected
		}
		if o.canSendLocked(len(s.elem)) {
			o.waiting.Add(-1)
			err := o.sendLocked(s)
			o.mu.Unlock()
			return err
		}
		// Everything unacknowledged must be asked for, or no ack comes.
		if o.sinceReq > 0 {
			o.requestAckLocked()
		}
		tc, wait := o.tc, o.policy.wait
		o.mu.Unlock()
		if tc == nil {
			o.waiting.Add(-1)
			continue // the request failed: queue s for the next stream
		}
		if deadline == nil {
			deadline = time.NewTimer(wait)
		}
		select {
		case <-room:
		case <-ctx.Done():
			o.waiting.Add(-1)
			return ctx.Err()
		case <-deadline.C:
			closeWithin(tc, closeBound) // the read loop ends the stream; s waits for the next
		}
		o.waiting.Add(-1)
	}
}

// roomSignal returns a channel closed at the next wake.
func (o *outbox) roomSignal() <-chan struct{} {
	o.roomMu.Lock()
	defer o.roomMu.Unlock()
	if o.roomCh == nil {
		o.roomCh = make(chan struct{})
	}
	return o.roomCh
}

// wake wakes the senders waiting for room.
func (o *outbox) wake() {
	o.roomMu.Lock()
	if o.roomCh != nil {
		close(o.roomCh)
		o.roomCh = nil
	}
	o.roomMu.Unlock()
}

// roomLocked reports whether a stanza of n bytes may be written without
// passing the bounds of unacknowledged stanzas. With none unacknowledged
// there is always room, for a stanza larger than the byte bound too.
func (o *outbox) roomLocked(n int) bool {
	return len(o.unacked) == 0 ||
		(len(o.unacked) < o.policy.maxUnacked && o.unackedBytes+n <= o.policy.maxBytes)
}

func (o *outbox) sendLocked(s sentStanza) error {
	o.applyAcksLocked()
	o.flushHeldLocked()
	if o.tc == nil {
		if len(o.queue) >= o.limit {
			return ErrQueueFull
		}
		o.queue = append(o.queue, s)
		return nil
	}
	if o.sm && (len(o.queue) > 0 || !o.roomLocked(len(s.elem))) {
		// Held behind the stanzas already held, until acks make room.
		if len(o.queue) >= o.limit {
			return ErrQueueFull
		}
		o.queue = append(o.queue, s)
		o.held.Store(true)
		if o.sinceReq > 0 {
			o.requestAckLocked()
		}
		return nil
	}
	o.writeStanzaLocked(s, time.Now())
	return nil
}

// writeStanzaLocked writes s on the live stream, counting it for stream
// management and requesting an ack when the policy says so.
func (o *outbox) writeStanzaLocked(s sentStanza, now time.Time) {
	if o.sm {
		o.unacked = append(o.unacked, s)
		o.unackedBytes += len(s.elem)
		if o.sinceReq == 0 {
			o.firstUnreq = now
		}
		o.sinceReq++
		o.sinceReqBytes += len(s.elem)
		o.lastSend = now
	}
	if err := o.writeLocked(s.elem); err != nil {
		// The connection is failing; the read loop or the pings will
		// notice. Keep the stanza to send it again on the next stream.
		if !o.sm {
			o.queue = append(o.queue, s)
		}
		o.tc = nil
		return
	}
	if !o.sm {
		return
	}
	if 2*o.sinceReq >= o.policy.maxUnacked || 2*o.sinceReqBytes >= o.policy.maxBytes ||
		now.Sub(o.firstUnreq) >= o.policy.maxDelay {
		o.requestAckLocked()
		return
	}
	o.armLocked(now)
}

// flushHeldLocked writes the held stanzas that the bounds now leave room
// for, in order. When some stay held, every stanza written is asked for:
// the ack that makes room for them must come.
func (o *outbox) flushHeldLocked() {
	if o.tc == nil || len(o.queue) == 0 {
		o.held.Store(false)
		return
	}
	now := time.Now()
	q := o.queue
	o.queue = nil // a stanza whose write fails without stream management comes back here
	for i, s := range q {
		if o.tc == nil || (o.sm && !o.roomLocked(len(s.elem))) {
			if i == 0 {
				o.queue = q
			} else {
				o.queue = append(o.queue, q[i:]...)
			}
			break
		}
		o.writeStanzaLocked(s, now)
	}
	o.held.Store(o.tc != nil && len(o.queue) > 0)
	if o.held.Load() && o.sinceReq > 0 {
		o.requestAckLocked()
	}
}

// armLocked makes sure ackTimer fires when the next request is due: the
// idle delay after the last stanza, or the maximum delay after the first
// one not asked for, whichever comes first.
func (o *outbox) armLocked(now time.Time) {
	if o.sinceReq == 0 || o.kicked.Load() {
		return // nothing due, or the timer runs now anyway
	}
	due := o.lastSend.Add(o.policy.idle)
	if d := o.firstUnreq.Add(o.policy.maxDelay); d.Before(due) {
		due = d
	}
	if !o.timerDue.IsZero() && !o.timerDue.After(due) {
		return // it fires before
	}
	o.timerDue = due
	o.ackTimer.Reset(due.Sub(now))
}

// ackTimerFired requests an ack when the stanzas paused for the idle delay
// or the first one waited the maximum delay, and writes the held stanzas
// that acks made room for; it arms itself again while something is due.
func (o *outbox) ackTimerFired() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.timerDue = time.Time{}
	o.kicked.Store(false)
	if o.tc == nil || !o.sm {
		return
	}
	o.applyAcksLocked()
	o.flushHeldLocked()
	now := time.Now()
	if o.sinceReq > 0 && o.tc != nil &&
		(now.Sub(o.lastSend) >= o.policy.idle || now.Sub(o.firstUnreq) >= o.policy.maxDelay) {
		o.requestAckLocked()
	}
	if o.tc != nil {
		o.armLocked(now)
	}
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
		o.wtimer = time.AfterFunc(writeTimeout, func() { closeWithin(tc, closeBound) })
		o.wtimer.Stop()
		o.wtc = tc
	}
	o.wtimer.Reset(writeTimeout)
	err := o.tc.WriteElement(context.Background(), elem)
	o.wtimer.Stop()
	return err
}

// requestAckLocked sends an <r/>: from now on every stanza sent is covered
// by a request.
func (o *outbox) requestAckLocked() {
	o.sinceReq, o.sinceReqBytes = 0, 0
	if err := o.writeLocked([]byte(smRequest)); err != nil {
		o.tc = nil
	}
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
		o.unacked, o.unackedBytes, o.acked = nil, 0, h
		o.sinceReq, o.sinceReqBytes = 0, 0
		return &ProtocolError{Step: "stream management", Msg: "server acknowledged more stanzas than were sent"}
	}
	for _, s := range o.unacked[:n] {
		o.unackedBytes -= len(s.elem)
	}
	clear(o.unacked[:n]) // the backing array outlives them
	o.unacked = o.unacked[n:]
	if len(o.unacked) == 0 {
		o.unacked, o.unackedBytes = nil, 0
	}
	if o.sinceReq > len(o.unacked) {
		// Acknowledged without being asked for (an <a/> the server sent
		// on its own).
		o.sinceReq, o.sinceReqBytes = len(o.unacked), o.unackedBytes
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
	o.sm, o.acked = false, 0
	o.clearCountsLocked()
	o.id, o.resumable = "", false
	o.flushHeldLocked() // nothing is held without stream management
	o.mu.Unlock()
	o.wake()
}

// clearCountsLocked forgets the unacknowledged stanzas and the requests.
func (o *outbox) clearCountsLocked() {
	o.unacked, o.unackedBytes = nil, 0
	o.sinceReq, o.sinceReqBytes = 0, 0
	o.ackOwed.Store(nil)
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
	o.held.Store(false)
	o.mu.Unlock()
	o.wake()
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
	// Written again, they need a request of their own.
	o.sinceReq, o.sinceReqBytes = len(o.unacked), o.unackedBytes
	o.ackOwed.Store(nil)
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
	o.tc, o.sm, o.acked, o.rewrite = nil, sm, 0, nil
	o.clearCountsLocked()
	o.id, o.resumable = "", false
}

// attach makes tc the live stream: the stanzas of a resumption are written
// again, then the queue, before any new send.
func (o *outbox) attach(tc transport.Conn) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tc = tc
	now := time.Now()
	for _, s := range o.rewrite {
		if o.tc == nil {
			break
		}
		if err := o.writeLocked(s.elem); err != nil {
			o.tc = nil
		}
	}
	o.rewrite = nil
	if o.sinceReq > 0 {
		o.firstUnreq, o.lastSend = now, now
	}
	o.flushHeldLocked()
	if o.tc != nil && o.sm {
		o.armLocked(now)
	}
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

// reset forgets everything: the session is over.
func (o *outbox) reset() {
	o.mu.Lock()
	o.session++
	o.hasServerH.Store(false)
	o.tc, o.sm, o.acked, o.queue, o.rewrite = nil, false, 0, nil, nil
	o.clearCountsLocked()
	o.id, o.resumable = "", false
	if o.ackTimer != nil {
		o.ackTimer.Stop()
		o.timerDue = time.Time{}
	}
	o.held.Store(false)
	o.kicked.Store(false) // a kick the Stop cancelled
	o.mu.Unlock()
	o.wake()
}

// pending returns the number of unacknowledged and queued stanzas.
func (o *outbox) pending() (unacked, queued int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.unacked), len(o.queue)
}
