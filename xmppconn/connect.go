package xmppconn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
	"mellium.im/xmpp/stream"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/transport/bosh"
	"github.com/xmppconn/xmppconn/transport/websocket"
)

// Connect dials the server, authenticates and binds a resource. It returns
// once the connection is CONNECTED (nil) or the attempt failed: then the
// error is the events.Failed that was emitted with ConnectionFailed, which
// wraps the cause. The attempt is bounded by Config.Reconnect.AttemptTimeout
// like every later one, whatever ctx allows; with Reconnect.RetryConnect a
// failed attempt whose error may heal is tried again under the reconnection
// policy. Connect returns after the listeners have seen the events it
// caused (but when called from a listener). It is allowed in state CLOSED
// and FAILED.
func (c *Connection) Connect(ctx context.Context) error {
	c.holdAuth()
	err := c.connect(ctx)
	_ = c.em.Sync(ctx)
	return err
}

// connect runs the attempts of Connect.
func (c *Connection) connect(ctx context.Context) error {
	if err := c.waitLoops(ctx); err != nil { // goroutines of a previous session
		return fmt.Errorf("xmppconn: connect: the previous session's goroutines are still running: %w", err)
	}
	c.mu.Lock()
	if st := c.states.State(); st != events.StateClosed && st != events.StateFailed {
		c.mu.Unlock()
		return &StateError{Op: "connect", State: st}
	}
	c.closing = false
	c.lastRx = time.Time{}
	c.iqs.begin()
	c.transitionLocked(events.StateConnecting)
	actx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	c.cancel, c.attempt = cancel, done
	c.mu.Unlock()
	defer func() {
		cancel()
		c.mu.Lock()
		c.attempt = nil
		c.mu.Unlock()
		close(done)
	}()

	for n := 1; ; n++ {
		tc, neg, err := c.runAttempt(actx, nil, c.cfg.Resource)
		if err == nil {
			return c.goLive(tc, neg, true)
		}
		r := c.cfg.Reconnect
		if !r.RetryConnect || r.Disabled || !retryable(err) || !c.mayTry(n+1) || actx.Err() != nil {
			return c.failAttempt(err, tc, n, 0)
		}
		delay := c.delay(n)
		if f := c.failAttempt(err, tc, n, delay); errors.Is(f, ErrDisconnected) {
			return f
		}
		t := time.NewTimer(delay)
		select {
		case <-actx.Done():
			t.Stop()
			if c.isClosing() {
				return ErrDisconnected
			}
			return actx.Err()
		case <-t.C:
		}
		c.mu.Lock()
		if c.closing {
			c.mu.Unlock()
			return ErrDisconnected
		}
		c.moveLocked(events.StateConnecting, events.StateChange{Attempt: n + 1})
		c.mu.Unlock()
	}
}

// isClosing reports whether Disconnect was called.
func (c *Connection) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

// runAttempt runs one connect or recovery attempt (dial, negotiation,
// resumption or bind), bounded by Config.Reconnect.AttemptTimeout. An
// attempt cut short by that bound fails with ErrAttemptTimeout, a timeout
// that a recovery tries again; one cut short by ctx fails with ctx's error.
// On failure the transport, if one was dialled, is returned closed, for its
// Status.
func (c *Connection) runAttempt(ctx context.Context, resume *resumeReq, resource string) (transport.Conn, *negotiated, error) {
	rec := c.beginAttempt()
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	bound := c.bounds.add(c.cfg.Reconnect.AttemptTimeout, func() { cancel(ErrAttemptTimeout) })
	tc, neg, err := c.establish(actx, resume, resource)
	inTime := bound.remove()
	if err == nil && !inTime {
		// Up just as the bound ran out: the attempt is over all the same.
		err = context.Cause(actx)
	}
	if err != nil {
		neg = nil
	}
	rec.finish(tc, neg)
	if err != nil {
		if ctx.Err() == nil && errors.Is(context.Cause(actx), ErrAttemptTimeout) {
			err = fmt.Errorf("%w after %s (%w)", ErrAttemptTimeout, c.cfg.Reconnect.AttemptTimeout, err)
		}
		if tc != nil {
			c.closeQuietly(tc)
		}
		return tc, nil, err
	}
	return tc, neg, nil
}

// domain returns the XMPP domain to connect to.
func (c *Connection) domain() (string, error) {
	if c.cfg.Domain != "" {
		return c.cfg.Domain, nil
	}
	if d, ok := bareDomain(c.cfg.URL); ok {
		return d, nil
	}
	u, err := url.Parse(c.cfg.URL)
	if err != nil {
		return "", err
	}
	return u.Hostname(), nil
}

// dialBounded dials within twice Config.Ping.Timeout (steps.go).
func (c *Connection) dialBounded(ctx context.Context, rawURL, domain string) (transport.Conn, error) {
	bound := 2 * c.cfg.Ping.Timeout
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer c.bounds.add(bound, cancel).remove()
	tc, err := c.dial(dctx, rawURL, domain)
	if err != nil && ctx.Err() == nil && dctx.Err() != nil {
		err = &NoAnswerError{Step: "dial", Waiting: "connection", Bound: bound}
	}
	return tc, err
}

// dial opens the transport that the URL scheme selects.
func (c *Connection) dial(ctx context.Context, rawURL, domain string) (transport.Conn, error) {
	if c.cfg.Dial != nil {
		return c.cfg.Dial(ctx, rawURL, domain)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &ConfigError{Field: "URL", Msg: "not a URL"}
	}
	from := c.cfg.streamFrom(strings.ToLower(u.Scheme), domain)
	switch strings.ToLower(u.Scheme) {
	case "ws", "wss":
		// Without Config.HTTPClient, websocket.Dial secures its own
		// direct dial with TLSConfig.
		wc, err := websocket.Dial(ctx, rawURL, domain, &websocket.Options{
			HTTPClient: c.cfg.HTTPClient,
			Header:     c.cfg.Header,
			Origin:     c.cfg.Origin,
			TLSConfig:  c.cfg.TLSConfig,
			Limits:     c.cfg.Limits,
			From:       from,
			Redact:     c.redact,
		})
		if err == nil {
			st := wc.Status()
			c.exts.httpResponse(st.HTTPStatus, st.Header)
		}
		return wc, err
	case "http", "https":
		hc := c.cfg.HTTPClient
		if hc == nil && c.cfg.TLSConfig != nil {
			hc = c.boshHTTPClient()
		}
		return bosh.Dial(ctx, rawURL, domain, &bosh.Options{
			HTTPClient: hc,
			OnResponse: c.exts.httpResponse,
			Header:     c.cfg.Header,
			Limits:     c.cfg.Limits,
			From:       from,
			Redact:     c.redact,
		})
	default:
		return nil, &ConfigError{Field: "URL", Msg: "scheme " + u.Scheme + " is not ws, wss, http or https"}
	}
}

// HTTPClient returns the HTTP client of the endpoint: Config.HTTPClient, or
// one that trusts Config.TLSConfig (made once per Connection, with
// http.DefaultTransport's timeouts and proxy, so that its kept-alive
// connections serve every call), or nil for the transports' own defaults.
// An extension that talks HTTP to the deployment uses it, so that it trusts
// what the Connection trusts.
func (c *Connection) HTTPClient() *http.Client {
	if hc := c.cfg.HTTPClient; hc != nil || c.cfg.TLSConfig == nil {
		return hc
	}
	c.httpOnce.Do(func() { c.httpClient = &http.Client{Transport: c.tlsTransport()} })
	return c.httpClient
}

// tlsTransport returns a new clone of http.DefaultTransport that trusts
// Config.TLSConfig.
func (c *Connection) tlsTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = c.cfg.TLSConfig.Clone()
	return tr
}

// boshHTTPClient returns the Connection's BOSH client that trusts
// Config.TLSConfig: the BOSH default's settings (bosh.NewHTTPClientFrom),
// made once, so that a reconnection finds its kept-alive connections.
func (c *Connection) boshHTTPClient() *http.Client {
	c.boshOnce.Do(func() { c.boshClient = bosh.NewHTTPClientFrom(c.tlsTransport()) })
	return c.boshClient
}

// establish dials and negotiates a session: a new one, or the resumption
// of resume when it is set (tokens, discovery and redirects: redirect.go).
func (c *Connection) establish(ctx context.Context, resume *resumeReq, resource string) (transport.Conn, *negotiated, error) {
	domain, err := c.domain()
	if err != nil || domain == "" {
		return nil, nil, &ConfigError{Field: "Domain", Msg: "no XMPP domain and none in the URL"}
	}
	return c.establishRouted(ctx, domain, resume, resource)
}

// negotiateAt dials rawURL and negotiates a session on it with cfg. When
// the server leaves SASL2 unanswered (ErrSASL2NoAnswer) and offers RFC 6120
// SASL too, the Connection
// remembers that SASL2 is broken there and negotiates again at once on a
// fresh transport with RFC 6120 SASL (sasl2_fallback.go).
func (c *Connection) negotiateAt(ctx context.Context, rawURL, domain string, cfg *Config, resume *resumeReq, resource string) (transport.Conn, *negotiated, error) {
	if c.sasl2Broken.Load() && !cfg.SASL2.Disabled {
		cfg = withoutSASL2(cfg)
	}
	tc, neg, err := c.negotiateOnce(ctx, rawURL, domain, cfg, resume, resource)
	if err == nil || cfg.SASL2.Disabled || !sasl2Fallback(err) {
		return tc, neg, err
	}
	c.sasl2Broken.Store(true)
	c.log.Debug("xmppconn: SASL2 left unanswered, RFC 6120 SASL from now on", "err", err)
	if tc != nil {
		c.closeQuietly(tc)
	}
	var rerr *ResumeError
	if errors.As(err, &rerr) {
		resume = nil // no answer to the inline <resume/>: a fresh session, as after tryResume
	}
	return c.negotiateOnce(ctx, rawURL, domain, withoutSASL2(cfg), resume, resource)
}

// negotiateOnce dials rawURL and negotiates a session on it with cfg.
func (c *Connection) negotiateOnce(ctx context.Context, rawURL, domain string, cfg *Config, resume *resumeReq, resource string) (transport.Conn, *negotiated, error) {
	// The HTTP hooks time the dial, and a BOSH session request in Open
	// (steps.go); only their contexts carry them, since a transport may
	// keep the context of its last write for as long as the session lives.
	rec := c.attemptRecord()
	rec.beginDial(rawURL, transportOf(rawURL, c.cfg.Dial != nil))
	tc, err := c.dialBounded(rec.traceDial(ctx), rawURL, domain)
	if err != nil {
		return nil, nil, err
	}
	n := &negotiator{conn: tc, cfg: cfg, domain: domain, resource: resource, resume: resume, stepTO: c.cfg.Ping.Timeout, redact: c.redact, log: c.log, agentID: c.agentID, rec: rec, fast: &c.fast, features: &c.features, bounds: &c.bounds, jids: &c.jids}
	neg, err := n.run(ctx)
	if err != nil {
		return tc, nil, err
	}
	return tc, neg, nil
}

// newSession creates the mellium session for the bound JID j over a new
// stanza pipe; Session makes it on demand.
func (c *Connection) newSession(j jid.JID, secure bool) (*xmpp.Session, *stanzaPipe, error) {
	pipe := newStanzaPipe(c.out.send, c.log, func() tls.ConnectionState {
		c.mu.Lock()
		tc := c.conn
		c.mu.Unlock()
		if tc == nil {
			return tls.ConnectionState{}
		}
		st, _ := tc.ConnectionState()
		return st
	})
	domain, _ := jid.Parse(j.Domainpart())
	var mask xmpp.SessionState = xmpp.Ready | xmpp.Authn
	if secure {
		mask |= xmpp.Secure
	}
	sess, err := xmpp.NewSession(context.Background(), domain, j, pipe, 0,
		func(_ context.Context, in, out *stream.Info, _ *xmpp.Session, _ any) (xmpp.SessionState, io.ReadWriter, any, error) {
			// Negotiation already happened on the transport; the session
			// only needs to know the stream's namespace.
			in.XMLNS, out.XMLNS = stanza.NSClient, stanza.NSClient
			return mask, nil, nil, nil
		})
	return sess, pipe, err
}

// goLive makes a negotiated stream the live one: CONNECTED and
// ConnectionEstablished, the outbound path resumed or restarted on it, and
// its read and ping loops started. first is true for the Connect that
// creates the session.
func (c *Connection) goLive(tc transport.Conn, neg *negotiated, first bool) error {
	l := newLink(tc)
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		c.closeQuietly(tc)
		return ErrDisconnected
	}
	if first {
		_, c.secure = tc.ConnectionState()
		c.bound = true
	}
	c.conn, c.link, c.jid = tc, l, neg.jid
	c.transitionLocked(events.StateConnected)
	c.em.Emit(events.Established{ID: neg.jid.Resourcepart(), JID: neg.jid.String(), Resumed: neg.resumed})
	c.mu.Unlock()

	// Stanzas that came during negotiation are seen first, before the read
	// loop starts, so that what they tell (Jitsi's properties push) comes
	// in order.
	for _, e := range neg.early {
		if r, err := rootOf(e); err == nil {
			c.inboundStanza(l, r, e)
		}
	}
	// The bookkeeping is ready before the read loop starts (it takes the
	// server's <enabled/> and acks); the backlog is written after it
	// started, since writing a long backlog to a server that waits for its
	// own output to be read would deadlock.
	if neg.resumed {
		c.inCounting.Store(true)
		if err := c.out.prepareResumed(neg.resumedH); err != nil {
			c.log.Warn("xmppconn: resume", "err", err)
		}
	} else {
		c.inCounting.Store(false)
		c.inH.Store(0)
		c.out.prepareFresh(neg.sm, neg.jid.String())
		if e := neg.enabled; e != nil {
			// Enabled inline (Bind 2): counting starts with the session.
			c.out.enabled(e.ID, e.resumable())
			c.inCounting.Store(true)
		}
	}
	c.startLink(l)
	c.out.attach(tc)
	c.startWriting(l)
	c.log.Debug("xmppconn: connected", "jid", neg.jid.String(), "resumed", neg.resumed)
	c.exts.up(neg.resumed)
	return nil
}

// failAttempt ends Connect's attempt n that could not succeed: FAILED,
// then exactly one ConnectionFailed; next is the wait before Connect tries
// again (0: it does not). When Disconnect interrupted the attempt, nothing
// is emitted here: Disconnect reports the close.
func (c *Connection) failAttempt(err error, tc transport.Conn, n int, next time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return ErrDisconnected
	}
	f := c.failure(err, statusOf(tc), false)
	why := events.StateChange{Err: f.Err, Reason: f.Reason, NextDelayMS: next.Milliseconds()}
	if c.cfg.Reconnect.RetryConnect {
		why.Attempt = n
	}
	if !c.moveLocked(events.StateFailed, why) {
		return fmt.Errorf("xmppconn: connect: %w", err)
	}
	c.em.Emit(f)
	c.log.Debug("xmppconn: connect failed", "error", string(f.Err), "reason", f.Reason)
	return f
}

// statusOf returns what tc last saw, or nothing when there is no transport.
func statusOf(tc transport.Conn) transport.Status {
	if tc == nil {
		return transport.Status{}
	}
	return tc.Status()
}

// closeQuietly closes a transport within the bound of a wait for the
// server (Config.Ping.Timeout), ignoring the error: the caller is already
// reporting a failure, and a server that does not answer the close must not
// hold the attempt.
func (c *Connection) closeQuietly(tc transport.Conn) {
	closeWithin(tc, c.cfg.Ping.Timeout)
}

// closeWithin closes a transport within bound, ignoring the error.
func closeWithin(tc transport.Conn, bound time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	_ = tc.Close(ctx)
}
