package xmppconn

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
)

// maxTokenAsks bounds how often one attempt asks the token source in a row
// for a token that is not expired: a source that keeps handing out expired
// tokens ends the attempt instead of looping.
const maxTokenAsks = 3

// routeState is the token and endpoint a Connection uses; they change
// across attempts (a fresh token, a followed redirect, a discovered
// endpoint).
type routeState struct {
	mu       sync.Mutex
	tok      auth.Secret // the token to send; zero: ask the source
	refused  auth.Secret // the token the server or the expiry check last refused
	endpoint string      // the endpoint URL without token; empty: not resolved yet
	origin   string      // the endpoint before any redirect (configured or discovered)
}

// tokenFor returns the token to send on the next connect or resume: the
// current one when it has not expired, else a new one from the token
// source. Each expired token gives one ConnectionTokenExpired. It does no
// network I/O besides what the token source does: when no usable token is
// available, the attempt ends before any dial. It returns the zero Secret
// when the connection does not use tokens.
func (c *Connection) tokenFor(ctx context.Context) (auth.Secret, error) {
	if c.cfg.Token == nil {
		return auth.Secret{}, nil
	}
	c.route.mu.Lock()
	tok, refused := c.route.tok, c.route.refused
	c.route.mu.Unlock()

	if tok.IsZero() {
		t, err := auth.NextToken(ctx, c.cfg.Token, refused)
		if err != nil {
			return auth.Secret{}, &TokenError{Reason: "the token source has no token", Err: err}
		}
		tok = t
	}
	for asks := 0; ; asks++ {
		info := auth.ReadToken(tok)
		if !info.Expired(c.cfg.Clock(), c.cfg.ClockSkew) {
			break
		}
		c.tokenExpired(info)
		c.route.mu.Lock()
		c.route.tok, c.route.refused = auth.Secret{}, tok
		c.route.mu.Unlock()
		if asks == maxTokenAsks {
			return auth.Secret{}, &TokenError{Reason: "the token source gives only expired tokens"}
		}
		t, err := auth.NextToken(ctx, c.cfg.Token, tok)
		if err != nil {
			return auth.Secret{}, &TokenError{Reason: "token expired and the token source has no other", Err: err}
		}
		tok = t
	}
	c.route.mu.Lock()
	c.route.tok = tok
	c.route.mu.Unlock()
	return tok, nil
}

// tokenRefused handles a SASL refusal of tok: ConnectionTokenExpired when
// the server says it expired, and tok is never sent again. It reports
// whether the refusal meant expiry.
func (c *Connection) tokenRefused(tok auth.Secret, fe *auth.FailureError) bool {
	c.route.mu.Lock()
	if c.route.tok.Equal(tok) {
		c.route.tok = auth.Secret{}
	}
	c.route.refused = tok
	c.route.mu.Unlock()
	if !auth.TokenExpiredFailure(fe) {
		return false
	}
	c.tokenExpired(auth.ReadToken(tok))
	return true
}

// tokenExpired emits ConnectionTokenExpired for a token read as info.
func (c *Connection) tokenExpired(info auth.TokenInfo) {
	var exp string
	if !info.Expires.IsZero() {
		exp = info.Expires.UTC().Format(time.RFC3339)
	}
	c.mu.Lock()
	c.em.Emit(events.TokenExpired{Expires: exp})
	c.mu.Unlock()
	c.log.Debug("xmppconn: token expired", "expires", exp)
}

// RefreshToken hands over a new token. The next connect or resume sends it.
// When the connection is CONNECTED it goes RECONNECTING at once and resumes
// the session on a new stream that carries the new token (XEP-0198; the
// server moves the session over, so the full JID stays the same, or, when it
// cannot resume, a new session is bound), and RefreshToken returns when the
// connection is CONNECTED again (nil) or that attempt failed: then recovery
// goes on in the background as after a lost stream, and the error says why.
// In any other state it only stores the token. An empty token is refused;
// so is a connection created without Config.Token.
func (c *Connection) RefreshToken(ctx context.Context, tok string) error {
	if c.cfg.Token == nil {
		return errNoTokenSource
	}
	if tok == "" {
		return errors.New("xmppconn: refresh token: empty token")
	}
	s := auth.NewSecret(tok)
	c.route.mu.Lock()
	c.route.tok = s
	if c.route.refused.Equal(s) {
		c.route.refused = auth.Secret{}
	}
	c.route.mu.Unlock()
	return c.resumeNow(ctx)
}

// resumeNow moves a CONNECTED session to a new stream at once
// (RefreshToken): RECONNECTING, then a resumption carrying the current
// token. The old stream stays open until the new one is up, so that the
// server keeps the session to resume; then it is closed. When the attempt
// fails, the connection goes DISCONNECTED and recovers as after a lost
// stream (or ends in FAILED when the error will not heal).
func (c *Connection) resumeNow(ctx context.Context) error {
	c.mu.Lock()
	if c.closing || c.link == nil || c.states.State() != events.StateConnected {
		c.mu.Unlock()
		return nil
	}
	l := c.detachLocked()
	c.moveLocked(events.StateReconnecting, events.StateChange{Attempt: 1})
	rctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	prev := c.jid
	c.loops.Add(1)
	c.mu.Unlock()
	defer c.loops.Done()
	c.out.down()
	c.exts.down()

	// The caller's ctx bounds this attempt too.
	actx, acancel := context.WithCancel(rctx)
	stop := context.AfterFunc(ctx, acancel)
	resume, resource := c.resumeTarget(prev, true)
	tc, neg, err := c.runAttempt(actx, resume, resource)
	var rerr *ResumeError
	if errors.As(err, &rerr) && actx.Err() == nil {
		// The server took <resume/> and never answered (Prosody over
		// BOSH): bind a new session at once. With previd on the URL, a
		// Jitsi-style token host gives it the same user.
		tc, neg, err = c.runAttempt(actx, nil, resource)
	}
	stop()
	acancel()
	if err == nil {
		if err = c.goLive(tc, neg, false); err == nil {
			c.closeQuietly(l.tc)
			return nil
		}
	}
	c.closeQuietly(l.tc)
	status := l.tc.Status()
	if tc != nil {
		status = tc.Status()
	}

	var delay time.Duration
	again := !c.cfg.Reconnect.Disabled && retryable(err)
	if again {
		delay = c.delay(1) // the caller's code: without the lock
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return ErrDisconnected
	}
	if !again {
		c.moveLocked(events.StateDisconnected, c.causeLocked(err, status, 1, 0))
		c.giveUpLocked(err, status, 1)
		c.out.reset()
		return err
	}
	c.moveLocked(events.StateDisconnected, c.causeLocked(err, status, 1, delay))
	c.spawn(func() { c.recover(rctx, err, status, delay) })
	return fmt.Errorf("xmppconn: refresh token: resume: %w", err)
}
