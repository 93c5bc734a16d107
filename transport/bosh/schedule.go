package bosh

import "time"

// maxBatch is the payload size above which queued elements are split over
// several requests (one element larger than this still goes alone).
const maxBatch = 64 << 10

// scheduleLocked starts the requests that may start now. Requests are
// started inline, by whatever changed the state; when an empty request must
// wait for the 'polling' interval, a timer (not a goroutine: an idle session
// should keep none for this) runs the scheduler again when it is due.
func (c *Conn) scheduleLocked() {
	d := c.dispatchLocked()
	if d <= 0 || c.pollTimer != nil {
		// An armed timer is never later than d: lastSent only moves on.
		return
	}
	c.pollTimer = c.clock.AfterFunc(d, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.pollTimer = nil
		c.scheduleLocked()
	})
}

// stopPollTimerLocked stops the poll timer at the end of the session.
func (c *Conn) stopPollTimerLocked() {
	if c.pollTimer != nil {
		c.pollTimer.Stop()
		c.pollTimer = nil
	}
}

// maxFlightLocked is the number of requests allowed at once: the server's
// 'requests', but no more than hold+1.
func (c *Conn) maxFlightLocked() int {
	n := c.params.Hold + 1
	if r := c.params.Requests; r > 0 && r < n {
		n = r
	}
	return n
}

// idleTargetLocked is the number of requests kept open when there is
// nothing to send: one long-poll, or up to hold of them while staying below
// the requests limit; one poll at a time in a polling session.
func (c *Conn) idleTargetLocked() int {
	n := min(c.params.Hold, c.maxFlightLocked()-1)
	return max(n, 1)
}

// dispatchLocked starts every request that may start now: queued elements
// first, batched, then empty requests up to the idle target. It returns how
// long to wait before the next empty request when polling too soon would
// break the 'polling' interval (XEP-0124 §11, §12), else 0.
func (c *Conn) dispatchLocked() time.Duration {
	if c.state != stateOpen || c.closed || c.err != nil {
		return 0
	}
	c.absorbLocked()
	for c.windowOpenLocked() {
		if c.readqN >= c.queueBound() && c.outN < c.queueBound() {
			// The reader lags: every request, with elements or not, lets
			// the server answer with more (an application answering a
			// flood of IQs would pull the whole flood in). What is queued
			// waits for the reader, until the writer would have to wait
			// too: a reader that waits for the writer (a Handler writing
			// its answers) must not wait for ever.
			return 0
		}
		if len(c.out) > 0 {
			c.startLocked(c.takeLocked())
			continue
		}
		if c.flight >= c.idleTargetLocked() || c.readqN >= c.queueBound() {
			// Enough held open, or the reader lags: no new poll brings in
			// more until it catches up (ReadElement schedules then).
			return 0
		}
		if d := max(c.pollDelayLocked(), c.readerDelayLocked()); d > 0 {
			return d
		}
		c.startLocked(c.payloadRequestLocked(nil))
	}
	return 0
}

// windowOpenLocked reports whether a new request stays within 'requests'
// rids of the lowest one whose response has not come: a connection manager
// that takes no acks remembers only that many responses (XEP-0124 §14.3).
// While the answer to rid N is lost and N is being sent again, a request
// N+requests would have its answer push N's out of the server's memory, and
// N's retransmission would end the session with item-not-found, or, on
// ejabberd 23.01, get no answer with N's elements at all: lost stanzas that
// XEP-0198 cannot bring back, since its counter says how many arrived, not
// which. So the client waits, as with too many requests in flight. It also
// bounds the requests in flight: each is above the lowest unanswered rid.
func (c *Conn) windowOpenLocked() bool {
	return c.lastRID+1-c.nextIn < uint64(c.maxFlightLocked())
}

// pollDelayLocked returns how long an empty request must wait: two empty
// requests in a row, the first answered with nothing, are at least
// 'polling' apart, and at least minPollInterval whatever the server says.
func (c *Conn) pollDelayLocked() time.Duration {
	if !c.lastEmpty || !c.lastNothing {
		return 0
	}
	return c.lastSent.Add(max(c.params.Polling, minPollInterval)).Sub(c.clock.Now())
}

// pollGrace bounds how long an empty poll waits for the reader to take the
// elements of the last response (order.go): a reader that lags, or an
// application that reads nothing, must not leave the server without a
// request to push on.
const pollGrace = 20 * time.Millisecond

// readerDelayLocked returns how long an empty request must wait for the
// reader: until it has taken every element that came and waits for more,
// at most pollGrace after they came. What it writes meanwhile goes first.
// Once the stream is negotiated (Negotiated) the long-poll waits no more:
// the server must hold a request to push on.
func (c *Conn) readerDelayLocked() time.Duration {
	if !c.unread || c.live {
		return 0
	}
	return c.deliveredAt.Add(pollGrace).Sub(c.clock.Now())
}

// readerWaitsLocked records that the reader has taken everything and waits
// for more: the poll held back for it may go.
func (c *Conn) readerWaitsLocked() {
	if c.unread && len(c.readq) == 0 {
		c.unread = false
		c.scheduleLocked()
	}
}

// takeLocked builds the next request from the queue: a restart alone, or
// every element queued before the next restart, up to maxBatch bytes.
func (c *Conn) takeLocked() *request {
	if c.out[0].restart {
		c.out = c.out[1:]
		r := c.newRequestLocked(kindRestart)
		r.body = restartBody(r.rid, c.sid, c.ackLocked(r.rid), c.domain, c.opts.lang)
		return r
	}
	n, size := 0, 0
	for n < len(c.out) && !c.out[n].restart {
		if n > 0 && size+len(c.out[n].elem) > maxBatch {
			break
		}
		size += len(c.out[n].elem)
		n++
	}
	payload := make([][]byte, n)
	for i := range n {
		payload[i] = c.out[i].elem
		c.out[i] = outItem{}
	}
	c.out = c.out[n:]
	c.outN -= size
	if len(c.out) == 0 {
		c.out, c.outN = nil, 0
	}
	return c.payloadRequestLocked(payload)
}

// payloadRequestLocked allocates the next rid for a request carrying
// payload, or none. Its body is built when it takes its turn (sealLocked).
func (c *Conn) payloadRequestLocked(payload [][]byte) *request {
	r := c.newRequestLocked(kindPayload)
	r.payload = payload
	for _, p := range payload {
		r.size += len(p)
	}
	r.empty = len(payload) == 0
	return r
}

// absorbLocked moves queued elements into the last request started, while
// that one still waits for its turn (order.go) and so has no body yet: a
// request that waits for the one below it to count as read takes what is
// written meanwhile, up to maxBatch bytes, instead of leaving it for a
// request after it, which would wait the same again. Over a server that
// asks for XEP-0198 acks an answer to <r/> and the next stanza then leave
// together. The rid order is unchanged: the elements were queued after
// everything that request carries. An empty long-poll takes nothing: it is
// there to be held, and with elements the server would answer it at once
// and hold one request fewer (Prosody drops a stream error it has no held
// request for).
func (c *Conn) absorbLocked() {
	r := c.pending[c.lastRID]
	if r == nil || r.kind != kindPayload || r.body != nil || r.empty {
		return
	}
	for len(c.out) > 0 && !c.out[0].restart {
		e := c.out[0].elem
		if r.size+len(e) > maxBatch {
			return
		}
		r.payload = append(r.payload, e)
		r.size += len(e)
		c.out[0] = outItem{}
		c.out = c.out[1:]
		c.outN -= len(e)
	}
	if len(c.out) == 0 {
		c.out, c.outN = nil, 0
	}
}

// sealLocked builds r's body, once, when its first try takes its turn:
// what it carries is fixed from then on.
func (c *Conn) sealLocked(r *request) {
	if r.body != nil {
		return
	}
	r.body = payloadBody(r.rid, c.sid, c.ackLocked(r.rid), r.payload, false)
	r.payload = nil
}

// ackLocked returns the 'ack' attribute of a new request with this rid: the
// highest rid whose response, and every earlier one, has been received; 0
// (no attribute) when all of them have (XEP-0124 §9.2).
func (c *Conn) ackLocked(rid uint64) uint64 {
	if c.nextIn >= rid {
		return 0
	}
	return c.nextIn - 1
}

// startLocked sends r in its own goroutine.
func (c *Conn) startLocked(r *request) {
	c.flight++
	c.pending[r.rid] = r
	c.lastRID = r.rid
	c.lastEmpty = r.empty
	c.lastNothing = false
	c.lastSent = c.clock.Now()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		b, err := c.exchange(c.ctx, r, c.opts.tries)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.deliverLocked(r, b, err)
	}()
}

// deliverLocked takes the outcome of a request: it processes the responses
// that are now in rid order, or ends the session.
func (c *Conn) deliverLocked(r *request, b *body, err error) {
	c.flight--
	close(c.settled)
	c.settled = make(chan struct{})
	if c.closed || c.err != nil {
		return
	}
	if err != nil {
		c.failLocked(err)
		return
	}
	if b.report != 0 {
		if lost := c.pending[b.report]; lost != nil && c.arrived[b.report] == nil && lost != r {
			c.retransmitLocked(lost)
		}
	}
	c.arrived[r.rid] = b
	if next := c.pending[r.rid+1]; releasedBy(r, next, b, c.params, time.Now()) {
		next.markRead()
	}
	for c.err == nil {
		b, ok := c.arrived[c.nextIn]
		if !ok {
			break
		}
		r := c.pending[c.nextIn]
		delete(c.arrived, c.nextIn)
		delete(c.pending, c.nextIn)
		c.nextIn++
		c.processLocked(r, b)
	}
	c.scheduleLocked()
}

// retransmitLocked aborts the HTTP exchange of r and sends it again at once.
func (c *Conn) retransmitLocked(r *request) {
	select {
	case r.kick <- struct{}{}:
	default:
	}
	if r.cancelAttempt != nil {
		r.cancelAttempt()
	}
}

// processLocked handles one response, in rid order.
func (c *Conn) processLocked(r *request, b *body) {
	if r != nil && r.rid == c.lastRID && r.empty {
		c.lastNothing = len(b.children) == 0
	}
	c.queueLocked(b.children)
	if b.typ == "terminate" {
		c.failLocked(terminateError(b, c.opts.redact))
	}
}

// Negotiated implements transport.Negotiator: the session is live, and
// the long-poll no longer waits for the reader (readerDelayLocked).
func (c *Conn) Negotiated() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live {
		c.live = true
		c.scheduleLocked()
	}
}
