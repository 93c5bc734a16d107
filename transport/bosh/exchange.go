package bosh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/xmppconn/xmppconn/transport"
)

// maxResends bounds the tries of one request that died on a kept-alive
// connection the server had closed, which are not counted as tries.
const maxResends = 3

// exchange sends r until it gets a usable response, at most tries times
// (plus the retransmissions the server asks for with 'report', and the
// resends of a try whose kept-alive connection died under it), pausing
// between tries. The same bytes, so the same rid, are sent every time.
func (c *Conn) exchange(ctx context.Context, r *request, tries int) (*body, error) {
	kicks, resends := 0, 0
	for try := 1; ; try++ {
		b, retry, err := c.attempt(ctx, r)
		if err == nil {
			return b, nil
		}
		if ctx.Err() != nil || retry == retryNever {
			return nil, err
		}
		if retry == retryAtOnce && resends < maxResends {
			resends++
			try--
			continue
		}
		if kicked(r) && kicks < tries {
			kicks++
			try--
			continue
		}
		if try >= tries {
			var he *HTTPError
			if errors.As(err, &he) {
				he.Retried = tries > 1
			}
			return nil, fmt.Errorf("bosh: request failed after %d tries: %w", tries, err)
		}
		t := time.NewTimer(c.opts.backoffBefore(try + 1))
		select {
		case <-t.C:
		case <-r.kick:
		case <-ctx.Done():
			t.Stop()
			return nil, err
		}
		t.Stop()
	}
}

// retryKind says whether and when a failed try may be repeated.
type retryKind int

const (
	retryNever retryKind = iota // the failure is final
	retryLater                  // again, after the backoff, as the next try
	// retryAtOnce: the try took a kept-alive connection, which died under
	// it (keptAliveDied).
	retryAtOnce
)

// kicked reports whether a retransmission of r was asked for, and forgets
// the request.
func kicked(r *request) bool {
	select {
	case <-r.kick:
		return true
	default:
		return false
	}
}

// attempt sends r once, once the request below it counts as read. retry
// tells whether a failure may be retried with the same rid: network errors,
// timeouts, 5xx, a cut body, a recoverable binding error. A certificate that
// failed verification, HTTP 3xx, the other 4xx and bad bodies end the
// session.
func (c *Conn) attempt(ctx context.Context, r *request) (b *body, retry retryKind, err error) {
	// Requests reach the connection manager in rid order (order.go): wait
	// for the one below, before the request timeout starts.
	if err := r.awaitTurn(ctx); err != nil {
		return nil, retryNever, err
	}
	actx, cancel := context.WithTimeout(ctx, c.requestTimeout())
	defer cancel()
	c.mu.Lock()
	c.sealLocked(r)
	r.cancelAttempt = cancel
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		r.cancelAttempt = nil
		c.mu.Unlock()
	}()

	var tt tryTrace
	req, err := http.NewRequestWithContext(tt.trace(actx, r), http.MethodPost, c.url, newWireBody(r.body))
	if err != nil {
		return nil, retryNever, fmt.Errorf("bosh: build request: %w", redactError(err))
	}
	req.ContentLength = int64(len(r.body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(newWireBody(r.body)), nil }
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	for k, v := range c.opts.header {
		req.Header[k] = append([]string(nil), v...)
	}
	if c.untraced.Load() {
		r.markWritten() // the best we can know: the try starts now
	}
	resp, err := c.client.Do(req)
	if err != nil {
		switch {
		case transport.Certificate(err):
			// It fails the same way on every try: report it at once.
			return nil, retryNever, redactError(err)
		case tt.reused.Load():
			return nil, c.keptAliveDied(), redactError(err)
		}
		return nil, retryLater, redactError(err)
	}
	defer resp.Body.Close()
	r.markWritten() // answered: the server has it
	r.markRead()
	if !tt.gotConn.Load() {
		c.untraced.Store(true)
	}
	c.record(resp)

	switch code := resp.StatusCode; {
	case code >= 300 && code < 400:
		drain(resp.Body)
		loc, err := resp.Location()
		if err != nil {
			return nil, retryNever, &HTTPError{Status: code}
		}
		return nil, retryNever, &transport.RedirectError{Kind: transport.RedirectHTTP, Target: c.opts.redact.Text(loc.String()), Status: code}
	case code < 200 || code >= 300:
		drain(resp.Body)
		if retryable(code) {
			return nil, retryLater, &HTTPError{Status: code}
		}
		return nil, retryNever, &HTTPError{Status: code}
	}

	data, err := readBody(resp.Body, resp.ContentLength, c.opts.limits.MaxElementSize)
	if err != nil {
		var le *transport.LimitError
		if errors.As(err, &le) {
			return nil, retryNever, err
		}
		retry := retryLater
		if tt.reused.Load() {
			retry = c.keptAliveDied()
		}
		return nil, retry, &readError{err: err}
	}
	b, err = parseBody(data, c.opts.limits)
	if err != nil {
		return nil, retryNever, err
	}
	if b.typ == "error" {
		return nil, retryLater, errRecoverable
	}
	return b, retryNever, nil
}

// keptAliveDied handles a try whose kept-alive connection died under it:
// the server closed it while it was idle (Prosody does between two
// sessions), or a fault cut every connection. The request is sent again at
// once (retryAtOnce), but never on another connection of the pool, which
// the same fault may have cut too: the pool is emptied first. net/http
// would resend a request it knows to be idempotent on any pooled
// connection, so BOSH requests do not say they are. A copy that reaches
// the server on a connection that then dies costs more than the resend:
// ejabberd 23.01, given a rid it holds a second time, answers the first
// copy with nothing and remembers that empty answer for the rid, while the
// second copy waits for the elements; when that copy's connection dies too,
// a third copy gets the empty answer, and the elements go to the dead one,
// lost for good (XEP-0198 counts stanzas, it cannot name a missing one).
func (c *Conn) keptAliveDied() retryKind {
	c.client.CloseIdleConnections()
	return retryAtOnce
}

// drain reads a little of an unwanted response body so that the connection
// can be reused.
func drain(r io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 4<<10))
}
