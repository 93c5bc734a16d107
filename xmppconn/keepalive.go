package xmppconn

import (
	"fmt"
	"time"
)

// keepalive is the liveness state of one link, guarded by its kmu. It runs
// on a timer, not in a goroutine of its own: an idle session holds a timer,
// and a goroutine only while a check runs or while answers the processor
// owes the server are being written.
//
// Every interval without inbound data the client pings the server
// (XEP-0199); Failures missed answers in a row mean the stream is dead. A
// miss is followed at once by the next ping, so a dead stream is found
// within interval + Failures x timeout. A check also measures how late its
// timer fired: a large lateness means the process was stopped or the
// machine slept (suspend_time in ConnectionFailed). XEP-0198 acks are
// requested by the outbox on its own timer (outbox.go), not here.
//
// The link's keepalive counts as one of c.loops (armKeepalive adds it);
// that count is released once the link is closed and no check or payer is
// running.
type keepalive struct {
	armed   bool   // pingLoop has run: done is set
	writing bool   // the outbox is attached to the link: answers may be written
	stopped bool   // the link was closed
	busy    int    // checks and payers running
	paying  bool   // a payer is running
	done    func() // releases the link's count in c.loops, once
	timer   *time.Timer
	due     time.Time // when the timer was meant to fire
	misses  int
	pingID  string    // the ping waiting for its answer, if any
	sent    time.Time // when it was sent
}

// armKeepalive arms the keepalive of l, counted in c.loops until the link
// is closed and idle.
func (c *Connection) armKeepalive(l *link) {
	c.loops.Add(1)
	l.kmu.Lock()
	l.ka.armed = true
	l.ka.done = c.loops.Done
	if l.ka.stopped {
		done := l.releaseLocked()
		l.kmu.Unlock()
		if done != nil {
			done()
		}
		return
	}
	if !c.cfg.Ping.Disabled {
		l.ka.due = time.Now().Add(c.cfg.Ping.Interval)
		l.ka.timer = time.AfterFunc(c.cfg.Ping.Interval, func() { c.keepaliveFired(l) })
	}
	l.kmu.Unlock()
}

// enterLocked marks a check or payer as running, unless the link is closed.
// Called with l.kmu held.
func (l *link) enterLocked() bool {
	if l.ka.stopped {
		return false
	}
	l.ka.busy++
	return true
}

// leave ends a check or payer; the last one out of a closed link releases
// its count.
func (l *link) leave() {
	l.kmu.Lock()
	l.ka.busy--
	done := l.releaseLocked()
	l.kmu.Unlock()
	if done != nil {
		done()
	}
}

// releaseLocked returns the release of the link's count when it is due:
// closed, armed and idle. Called with l.kmu held.
func (l *link) releaseLocked() func() {
	if !l.ka.stopped || !l.ka.armed || l.ka.busy > 0 || l.ka.done == nil {
		return nil
	}
	done := l.ka.done
	l.ka.done = nil
	return done
}

// stopKeepalive stops the timer of a link being closed and releases its
// count when nothing runs.
func (l *link) stopKeepalive() {
	l.kmu.Lock()
	l.ka.stopped = true
	if l.ka.timer != nil {
		l.ka.timer.Stop()
	}
	done := l.releaseLocked()
	l.kmu.Unlock()
	if done != nil {
		done()
	}
}

// keepaliveFired is the timer's check: ping when the stream was idle for
// interval, count a ping that got no answer in time.
func (c *Connection) keepaliveFired(l *link) {
	l.kmu.Lock()
	if !l.enterLocked() {
		l.kmu.Unlock()
		return
	}
	now := time.Now()
	if late := now.Sub(l.ka.due); late > time.Duration(c.suspendMax.Load()) {
		c.suspendMax.Store(int64(late))
	}
	interval := c.cfg.Ping.Interval
	if l.backlog.Load() {
		// The read waits for the client to catch up with what the server
		// sent: the stream is alive, the client is slow. No ping could be
		// read meanwhile.
		l.ka.pingID, l.ka.misses = "", 0
		l.rearmLocked(now.Add(interval))
		l.kmu.Unlock()
		l.leave()
		return
	}
	if l.ka.pingID != "" {
		// The ping's timeout: any inbound data since it was sent proves the
		// stream alive as well.
		ok := l.lastRx().After(l.ka.sent)
		l.ka.pingID = ""
		if ok {
			l.ka.misses = 0
			l.rearmLocked(now.Add(interval))
			l.kmu.Unlock()
			l.leave()
			return
		}
		if l.ka.misses++; l.ka.misses >= c.cfg.Ping.Failures {
			l.kmu.Unlock()
			c.lost(l, ErrPingTimeout)
			l.leave()
			return
		}
		// Ping again at once.
	} else if idle := now.Sub(l.lastRx()); l.ka.misses == 0 && idle < interval {
		// Data flows: no ping needed before interval after the last.
		l.rearmLocked(l.lastRx().Add(interval))
		l.kmu.Unlock()
		l.leave()
		return
	}
	id := pingPrefix + newID()
	l.ka.pingID, l.ka.sent = id, now
	l.rearmLocked(now.Add(c.cfg.Ping.Timeout))
	l.kmu.Unlock()

	domain, _ := c.domain()
	iq := fmt.Sprintf("<iq xmlns='jabber:client' type='get' id='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>", id, xmlEscape(domain))
	_ = c.out.send([]byte(iq)) // a failing connection shows as a missed answer
	l.leave()
}

// rearmLocked sets the timer to fire at due. Called with l.kmu held.
func (l *link) rearmLocked(due time.Time) {
	l.ka.due = due
	if !l.ka.stopped && l.ka.timer != nil {
		l.ka.timer.Reset(time.Until(due))
	}
}

// pongArrived takes the answer (result or error) to the client's ping id:
// the stream is alive, and the next check is interval from now.
func (c *Connection) pongArrived(l *link, id string) {
	l.kmu.Lock()
	defer l.kmu.Unlock()
	if l.ka.pingID == "" || id != l.ka.pingID {
		return
	}
	l.ka.pingID = ""
	l.ka.misses = 0
	l.rearmLocked(time.Now().Add(c.cfg.Ping.Interval))
}

// owe queues an answer for a payer to send, without blocking: the processor
// must keep taking the server's acks whatever the writer does. When the
// queue is full the answer is dropped (owe reports false); the server asks
// again.
func (c *Connection) owe(l *link, elem []byte) bool {
	select {
	case l.ctrl <- elem:
	default:
		return false
	}
	c.payIfDue(l)
	return true
}

// startWriting marks the link's outbox as attached and pays what was owed
// before: an answer written earlier would have had no stream to go to.
func (c *Connection) startWriting(l *link) {
	l.kmu.Lock()
	l.ka.writing = true
	l.kmu.Unlock()
	c.payIfDue(l)
}

// payIfDue starts a payer when answers wait, none runs, and the link can
// be written.
func (c *Connection) payIfDue(l *link) {
	l.kmu.Lock()
	if l.ka.paying || !l.ka.writing || len(l.ctrl) == 0 || !l.enterLocked() {
		l.kmu.Unlock()
		return
	}
	l.ka.paying = true
	l.kmu.Unlock()
	go c.payDebts(l)
}

// payDebts writes what the processor owes until the queue is empty.
func (c *Connection) payDebts(l *link) {
	defer l.leave()
	for {
		select {
		case elem := <-l.ctrl:
			c.payDebt(elem)
			continue
		default:
		}
		l.kmu.Lock()
		if len(l.ctrl) == 0 || l.ka.stopped {
			l.ka.paying = false
			l.kmu.Unlock()
			return
		}
		l.kmu.Unlock()
	}
}
