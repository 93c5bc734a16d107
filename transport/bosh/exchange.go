package bosh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/xmppconn/xmppconn/transport"
)

// errRecoverable is a type='error' response: the deprecated recoverable
// binding error of XEP-0124, after which the request is sent again.
var errRecoverable = errors.New("bosh: recoverable binding error")

// exchange sends r until it gets a usable response, at most tries times
// (plus the retransmissions the server asks for with 'report'), pausing
// between tries. The same bytes, so the same rid, are sent every time.
func (c *Conn) exchange(ctx context.Context, r *request, tries int) (*body, error) {
	kicks := 0
	for try := 1; ; try++ {
		b, retry, err := c.attempt(ctx, r)
		if err == nil {
			return b, nil
		}
		if ctx.Err() != nil || !retry {
			return nil, err
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

// attempt sends r once. retry tells whether a failure may be retried with the
// same rid: network errors, timeouts, 5xx, a cut body, a recoverable binding
// error. HTTP 3xx, the other 4xx and bad bodies end the session.
func (c *Conn) attempt(ctx context.Context, r *request) (b *body, retry bool, err error) {
	actx, cancel := context.WithTimeout(ctx, c.requestTimeout())
	defer cancel()
	c.mu.Lock()
	r.cancelAttempt = cancel
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		r.cancelAttempt = nil
		c.mu.Unlock()
	}()

	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.url, bytes.NewReader(r.body))
	if err != nil {
		return nil, false, fmt.Errorf("bosh: build request: %w", redactError(err))
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	// A BOSH request is idempotent by its rid (XEP-0124 §14.3): this key,
	// present but without a value so that it is never sent, lets net/http
	// resend it at once on a fresh connection when a kept-alive one turns
	// out to be closed by the server, instead of failing into our backoff.
	req.Header["Idempotency-Key"] = nil
	for k, v := range c.opts.header {
		req.Header[k] = append([]string(nil), v...)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, true, redactError(err)
	}
	defer resp.Body.Close()
	c.record(resp)

	switch code := resp.StatusCode; {
	case code >= 300 && code < 400:
		drain(resp.Body)
		loc, err := resp.Location()
		if err != nil {
			return nil, false, &HTTPError{Status: code}
		}
		return nil, false, &transport.RedirectError{Kind: transport.RedirectHTTP, Target: loc.String(), Status: code}
	case code < 200 || code >= 300:
		drain(resp.Body)
		return nil, retryable(code), &HTTPError{Status: code}
	}

	data, err := readBody(resp.Body, c.opts.limits.MaxElementSize)
	if err != nil {
		var le *transport.LimitError
		if errors.As(err, &le) {
			return nil, false, err
		}
		return nil, true, fmt.Errorf("bosh: read response: %w", err)
	}
	b, err = parseBody(data, c.opts.limits)
	if err != nil {
		return nil, false, err
	}
	if b.typ == "error" {
		return nil, true, errRecoverable
	}
	return b, false, nil
}

// drain reads a little of an unwanted response body so that the connection
// can be reused.
func drain(r io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 4<<10))
}
