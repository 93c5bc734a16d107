package xmppconn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/transport"
)

// Every way a live stream ends goes through this file:
//
//   - lost: the stream ended without the user asking (a read error, a
//     stream error, missed pings): DISCONNECTED, then recovery or FAILED;
//   - Fail: an extension ends the session for a reason found above the
//     transport: DISCONNECTED, then FAILED;
//   - RefreshToken (token.go) moves a CONNECTED session to a new stream:
//     RECONNECTING;
//   - Disconnect: CLOSING, then CLOSED.
//
// Each takes the live stream off the Connection with detachLocked and lets
// it go with release; a session that ends for good ends in endLocked; the
// ConnectionFailed payload is built by failure (failure.go).

// detachLocked takes the live stream off the Connection and stops its
// loops: from now on nothing is read from it or written to it as the live
// stream. It returns nil when no stream is live. Call it with c.mu held,
// then release the stream without the lock.
func (c *Connection) detachLocked() *link {
	l := c.link
	if l == nil {
		return nil
	}
	c.link, c.conn = nil, nil
	c.lastRx = l.lastRx()
	l.close()
	l.inq.Stop() // what was read and not processed is for a stream that is gone
	return l
}

// release lets a detached stream go: the extensions hear that the stream is
// down, and the transport is closed (which also unblocks a writer stuck on
// a dead stream) within closeQuietly's bound.
func (c *Connection) release(l *link) {
	c.exts.down()
	c.closeQuietly(l.tc)
}

// abandon is release for a stream whose session recovery means to resume:
// the transport is aborted, not closed. A polite close (the <close/>, the
// BOSH terminate) would end the XEP-0198 session at the server whenever it
// reached it: a link that was only slow (pings late, a BOSH request
// between its tries) is still there to carry it.
func (c *Connection) abandon(l *link) {
	c.exts.down()
	l.tc.Abort()
}

// releasePolitely is release for Disconnect: the close is bounded by ctx,
// and its error returned.
func (c *Connection) releasePolitely(ctx context.Context, l *link) error {
	c.exts.down()
	return l.tc.Close(ctx)
}

// endLocked ends the session for good in FAILED with f: the state, the
// event, and what the session held (the mellium session, the Handler's
// queue, the SendIQ calls that wait). Call it with c.mu held, in a state
// from which FAILED is legal; the caller then resets the outbox without
// the lock.
func (c *Connection) endLocked(f events.Failed) {
	c.transitionLocked(events.StateFailed)
	c.em.Emit(f)
	c.releaseSessionLocked()
}

// releaseSessionLocked forgets the session: the mellium session and its
// pipe, the dispatcher's route to it, and the calls that wait for answers.
func (c *Connection) releaseSessionLocked() {
	if c.pipe != nil {
		c.pipe.close()
	}
	c.sess, c.pipe, c.bound = nil, nil, false
	c.disp.reset()
	c.iqs.end()
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
	c.detachLocked()
	st := l.tc.Status()
	follow, redirected, err := c.liveRedirectLocked(err)
	if c.cfg.Reconnect.Disabled || (!follow && !retryable(err)) {
		c.moveLocked(events.StateDisconnected, c.causeLocked(err, st, 0, 0))
		c.emitLocked(redirected)
		c.endLocked(c.failure(err, st, true))
		c.mu.Unlock()
		c.log.Debug("xmppconn: session lost for good", "err", err)
		c.release(l)
		c.out.reset()
		return
	}
	c.mu.Unlock()
	// The schedule is the caller's code: it runs without the lock.
	delay := time.Duration(0) // a redirect names where to go: go now
	if !follow {
		delay = c.delay(1)
	}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		c.release(l)
		return
	}
	c.moveLocked(events.StateDisconnected, c.causeLocked(err, st, 0, delay))
	c.emitLocked(redirected)
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.mu.Unlock()
	c.log.Debug("xmppconn: session lost, recovering", "err", err, "next_delay", delay)
	c.abandon(l)
	c.out.down()
	// The old stream is let go before recovery may bring a new one up. The
	// caller (the processor, a keepalive check, serve) holds a count.
	c.spawn(func() { c.recover(ctx, err, st, delay) })
}

// dropBacklog drops the stanzas that wait for the Handler, and logs how
// many: Disconnect does not wait for a slow Handler to work through the
// backlog of a session that is over.
func (c *Connection) dropBacklog() {
	if n := c.disp.q.Drop(); n > 0 {
		c.log.Warn("xmppconn: disconnect dropped stanzas the Handler had not taken", "dropped", n)
	}
}

// waitLoops waits until the Connection's goroutines have ended, or ctx
// ends.
func (c *Connection) waitLoops(ctx context.Context) error {
	if c.loops.idle() {
		return nil // no goroutine to start for the wait
	}
	done := make(chan struct{})
	go func() {
		c.loops.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// emitLocked queues e, if any; c.mu is held.
func (c *Connection) emitLocked(e events.Event) {
	if e != nil {
		c.em.Emit(e)
	}
}

// Fail ends the live session for a reason found above the transport (the
// Jitsi layer's conference that is not live, a moved shard): DISCONNECTED,
// then FAILED with ConnectionFailed f, and no recovery. The Connection
// completes f with what every failure carries (the account, the
// transport's status, the timings) and ends the stream. It reports whether
// a live session was ended: while none is (connecting, recovering, closed)
// it does nothing.
func (c *Connection) Fail(f events.Failed) bool {
	c.mu.Lock()
	if c.closing || c.link == nil {
		c.mu.Unlock()
		return false
	}
	l := c.detachLocked()
	c.transitionLocked(events.StateDisconnected)
	c.completeLocked(&f, l.tc.Status())
	c.endLocked(f)
	c.mu.Unlock()
	c.release(l)
	c.out.reset()
	return true
}

// Disconnect closes the connection: CLOSING, then CLOSED and
// ConnectionDisconnected. It cancels a Connect or a recovery in progress,
// closes the stream politely (bounded by ctx) and returns once the
// connection's goroutines have ended and the listeners have seen its events
// (but when called from a listener). On a connection that is CLOSED or
// FAILED it only stops a Connect that waits to try again, waits for what is
// left, and emits nothing. In every state it hands the Connection's FAST
// token back to its store and releases its SCRAM key cache (which is zeroed
// when no other Connection holds it): Disconnect a Connection you are done
// with, even a FAILED one.
func (c *Connection) Disconnect(ctx context.Context) error {
	err := c.disconnect(ctx)
	c.releaseAuth()
	_ = c.em.Sync(ctx)
	return err
}

func (c *Connection) disconnect(ctx context.Context) error {
	c.mu.Lock()
	st := c.states.State()
	if st == events.StateClosed || st == events.StateFailed || c.closing {
		cancel, attempt := c.cancel, c.attempt
		if attempt != nil && !c.closing {
			// A Connect between two attempts (Reconnect.RetryConnect).
			c.closing = true
		} else {
			attempt = nil
		}
		c.mu.Unlock()
		if attempt != nil {
			cancel()
			<-attempt
		}
		c.dropBacklog()
		return c.waitLoops(ctx)
	}
	c.closing = true
	c.transitionLocked(events.StateClosing)
	cancel, attempt := c.cancel, c.attempt
	l := c.detachLocked()
	c.mu.Unlock()

	if cancel != nil {
		cancel()
	}
	if attempt != nil {
		<-attempt // the attempt's own I/O is bounded by the cancelled context
	}
	var err error
	if l != nil {
		if c.inCounting.Load() {
			// XEP-0198 §4: acknowledge what was handled before closing, or
			// the server takes those stanzas for lost and bounces them to
			// their senders.
			c.out.write(smAnswer(c.inH.Load()))
		}
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		err = c.releasePolitely(cctx, l)
		ccancel()
	}
	c.out.reset()
	c.dropBacklog()

	c.mu.Lock()
	c.releaseSessionLocked()
	c.mu.Unlock()
	if werr := c.waitLoops(ctx); werr != nil {
		// A Handler call that does not return keeps its goroutine; the
		// connection is closed all the same.
		c.log.Warn("xmppconn: disconnect: goroutines still running at the deadline (a Handler that does not return?)")
		err = fmt.Errorf("xmppconn: disconnect: %w", werr)
	}

	c.mu.Lock()
	c.transitionLocked(events.StateClosed)
	c.em.Emit(events.Disconnected{Message: "closed by the client"})
	c.mu.Unlock()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// giveUpLocked ends a session whose recovery cannot go on: err is the last
// error, st what the last transport saw, attempt the last attempt made.
// Call it with c.mu held, in DISCONNECTED or RECONNECTING; the caller
// resets the outbox without the lock.
func (c *Connection) giveUpLocked(err error, st transport.Status, attempt int) {
	f := c.failure(err, st, true)
	c.moveLocked(events.StateFailed, events.StateChange{Err: f.Err, Reason: f.Reason, Attempt: attempt})
	c.em.Emit(f)
	c.releaseSessionLocked()
}
