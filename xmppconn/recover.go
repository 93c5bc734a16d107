package xmppconn

import (
	"context"
	"errors"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/transport"
)

// recover brings a lost session back: attempt n waits (delay for the first,
// Config.Reconnect's schedule for the next), goes RECONNECTING, and resumes
// the XEP-0198 session when it can — or binds a new one on the same stream
// when the server cannot resume it. A failed attempt goes back to
// DISCONNECTED, naming why and the wait before the next, while the policy
// allows more; after the last, or after an error that will not heal, the
// connection ends in FAILED with exactly one ConnectionFailed. Disconnect
// cancels ctx.
func (c *Connection) recover(ctx context.Context, cause error, status transport.Status, delay time.Duration) {
	lastErr, lastStatus := cause, status
	tryResume, last := true, 0
	for n := 1; c.mayTry(n); n++ {
		last = n
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		c.mu.Lock()
		if c.closing {
			c.mu.Unlock()
			return
		}
		c.moveLocked(events.StateReconnecting, c.causeLocked(lastErr, lastStatus, n, 0))
		prev := c.jid
		c.mu.Unlock()

		resume, resource := c.resumeTarget(prev, tryResume)
		tc, neg, err := c.runAttempt(ctx, resume, resource)
		var rerr *ResumeError
		if errors.As(err, &rerr) {
			// The server took <resume/> and never answered it: try a fresh
			// session next time (a clean <failed/> falls back to bind at once).
			tryResume = false
		}
		if err == nil {
			if err = c.goLive(tc, neg, false); err == nil {
				return
			}
		} else if tc != nil {
			lastStatus = tc.Status()
		}
		if ctx.Err() != nil {
			return // Disconnect
		}
		lastErr = err
		c.log.Debug("xmppconn: recovery attempt failed", "attempt", n, "err", err)
		if !retryable(err) || !c.mayTry(n+1) {
			break
		}
		delay = c.delay(n + 1)
		c.mu.Lock()
		if c.closing {
			c.mu.Unlock()
			return
		}
		c.moveLocked(events.StateDisconnected, c.causeLocked(err, lastStatus, n, delay))
		c.mu.Unlock()
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	c.giveUpLocked(lastErr, lastStatus, last)
	c.out.reset()
}

// resumeTarget returns what a new stream of a lost session asks for: the
// XEP-0198 resumption when there is one to try, and the resource to bind
// otherwise (the configured one, else the one the session had).
func (c *Connection) resumeTarget(prev jid.JID, tryResume bool) (*resumeReq, string) {
	var resume *resumeReq
	if id := c.out.resumeID(); id != "" && tryResume {
		resume = &resumeReq{previd: id, h: c.inH.Load(), jid: prev}
	}
	resource := c.cfg.Resource
	if resource == "" {
		resource = prev.Resourcepart()
	}
	return resume, resource
}
