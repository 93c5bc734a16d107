package xmppconn

import (
	"errors"
	"fmt"
	"time"
)

// ErrPingTimeout is the cause of a session lost because the server stopped
// answering XEP-0199 pings.
var ErrPingTimeout = errors.New("xmppconn: server stopped answering pings")

// pingLoop checks that the live stream still carries data: every interval
// without inbound data it pings the server (XEP-0199); Failures missed
// answers in a row mean the stream is dead. A miss is followed at once by
// the next ping, so a dead stream is found within interval + Failures x
// timeout. The loop also asks for XEP-0198 acks when the stream goes idle,
// and measures how late its timer fires: a large lateness means the process
// was stopped or the machine slept (suspend_time in ConnectionFailed).
func (c *Connection) pingLoop(l *link) {
	defer c.loops.Done()
	if c.cfg.Ping.Disabled {
		for {
			select {
			case <-l.stop:
				return
			case elem := <-l.ctrl:
				c.payDebt(elem)
			}
		}
	}
	interval, timeout := c.cfg.Ping.Interval, c.cfg.Ping.Timeout
	t := time.NewTimer(interval)
	defer t.Stop()
	due := time.Now().Add(interval)
	misses := 0
	for {
		select {
		case <-l.stop:
			return
		case elem := <-l.ctrl:
			c.payDebt(elem)
			continue
		case <-t.C:
		}
		now := time.Now()
		if late := now.Sub(due); late > time.Duration(c.suspendMax.Load()) {
			c.suspendMax.Store(int64(late))
		}
		c.out.requestAck()
		idle := now.Sub(l.lastRx())
		if misses == 0 && idle < interval {
			// Data flows: no ping needed before interval after the last.
			due = l.lastRx().Add(interval)
			t.Reset(time.Until(due))
			continue
		}
		ok, stopped := c.ping(l, timeout)
		if stopped {
			return
		}
		if ok {
			misses = 0
		} else if misses++; misses >= c.cfg.Ping.Failures {
			c.lost(l, ErrPingTimeout)
			return
		}
		if misses > 0 {
			due = time.Now() // ping again at once
		} else {
			due = time.Now().Add(interval)
		}
		t.Reset(time.Until(due))
	}
}

// ping sends one XEP-0199 ping and waits up to timeout for its answer, or
// for any inbound data, which proves the stream alive as well.
func (c *Connection) ping(l *link, timeout time.Duration) (ok, stopped bool) {
	id := pingPrefix + newID()
	answered := make(chan struct{})
	l.pongMu.Lock()
	l.pongs[id] = answered
	l.pongMu.Unlock()
	defer func() {
		l.pongMu.Lock()
		delete(l.pongs, id)
		l.pongMu.Unlock()
	}()
	sent := time.Now()
	domain, _ := c.domain()
	iq := fmt.Sprintf("<iq xmlns='jabber:client' type='get' id='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>", id, xmlEscape(domain))
	if err := c.out.send([]byte(iq)); err != nil {
		return false, false
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return false, true
		case elem := <-l.ctrl:
			c.payDebt(elem)
		case <-answered:
			return true, false
		case <-t.C:
			return l.lastRx().After(sent), false
		}
	}
}
