package xmppconn

import (
	"context"
	"errors"
	"time"

	"mellium.im/xmpp/stream"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/transport"
)

// failure builds the ConnectionFailed payload for err, the one place that
// does: st is what the transport last saw, wasUp tells whether a session
// had been established (a lost session) or not (a failed attempt). Call it
// with c.mu held.
func (c *Connection) failure(err error, st transport.Status, wasUp bool) events.Failed {
	f := events.Failed{Err: events.OtherError, Cause: c.redactError(err)}
	var reason string
	f.Err, reason, f.Details.Condition = classify(err)
	f.Reason = c.redact(reason)
	if wasUp && f.Err == events.OtherError {
		// Giving up on a session that was up: serverError after HTTP 5xx,
		// else droppedError.
		f.Err = events.DroppedError
		if httpStatusOf(err, st) >= 500 {
			f.Err = events.ServerError
		}
	}
	c.completeLocked(&f, st)
	return f
}

// completeLocked fills in what every ConnectionFailed carries besides its
// cause: the account, what the transport saw, and the timings. Call it with
// c.mu held.
func (c *Connection) completeLocked(f *events.Failed, st transport.Status) {
	if f.Credentials == "" {
		f.Credentials = c.accountLocked()
	}
	if f.Details.HTTPStatus == 0 {
		f.Details.HTTPStatus = httpStatusOf(f.Cause, st)
	}
	if f.Details.WSCloseCode == 0 {
		f.Details.WSCloseCode = st.WSCloseCode
	}
	f.Details.SuspendTimeMS = time.Duration(c.suspendMax.Load()).Milliseconds()
	if last := c.lastRxLocked(); !last.IsZero() {
		f.Details.TimeSinceLastSuccessMS = time.Since(last).Milliseconds()
	}
}

// httpStatusOf returns the HTTP status an error carries (a refused
// WebSocket upgrade), else the last one the transport saw.
func httpStatusOf(err error, st transport.Status) int {
	var hs transport.HTTPStatuser
	if errors.As(err, &hs) && hs.HTTPStatus() != 0 {
		return hs.HTTPStatus()
	}
	return st.HTTPStatus
}

// lastRxLocked returns when the server last sent anything: on the live
// stream, or on the last one before it went down.
func (c *Connection) lastRxLocked() time.Time {
	if c.link != nil {
		return c.link.lastRx()
	}
	return c.lastRx
}

// accountLocked returns the account for the Credentials of a failure: the
// bare JID logged in as, never a secret; "" for anonymous and token logins.
func (c *Connection) accountLocked() string {
	if c.cfg.Credentials.Anonymous() || c.cfg.Token != nil {
		return ""
	}
	if !c.jid.Equal(c.jid.Bare()) || c.jid.Localpart() != "" {
		return c.jid.Bare().String()
	}
	d, err := c.domain()
	if err != nil {
		return ""
	}
	return c.cfg.Credentials.Username + "@" + d
}

// classify returns the Jitsi error type, the reason to show (the server's
// text or the condition) and the condition for err.
func classify(err error) (t events.ErrorType, reason, condition string) {
	var (
		fe  *auth.FailureError
		se  stream.Error
		te  transport.Error
		re  *transport.RedirectError
		tke *TokenError
		rre *RedirectRefusedError
		txt transport.ServerTexter
	)
	t = events.OtherError
	switch {
	case err == nil:
		return t, "", ""
	case errors.As(err, &tke):
		if tke.Refusal != nil {
			condition = tke.Refusal.Condition
		}
		return events.PasswordRequired, tke.Reason, condition
	case errors.As(err, &rre):
		return t, "redirect to " + rre.Target + " refused: " + rre.Reason, rre.Kind
	case errors.As(err, &fe):
		reason = fe.Text
		if reason == "" {
			reason = fe.Condition
		}
		return events.PasswordRequired, reason, fe.Condition
	case errors.As(err, &se):
		reason = se.Err
		if len(se.Text) > 0 && se.Text[0].Value != "" {
			reason = se.Text[0].Value
		}
		return t, reason, se.Err
	case errors.As(err, &re):
		return t, "redirected (" + re.Kind + ") to " + re.Target + ", not followed", ""
	case errors.As(err, &te) && te.Condition() != "":
		condition, reason = te.Condition(), te.Condition()
		if errors.As(err, &txt) && txt.ServerText() != "" {
			reason = txt.ServerText()
		}
		return t, reason, condition
	case errors.Is(err, ErrAttemptTimeout), errors.Is(err, context.DeadlineExceeded):
		return t, "timed out", ""
	case errors.Is(err, transport.ErrStreamClosed):
		return t, "stream closed by the server", ""
	case transport.Certificate(err):
		// Final, and the fix is on the user's side: say what it is.
		return t, err.Error() + " (the server's certificate is not trusted; to trust a private CA, set Config.TLSConfig.RootCAs)", ""
	}
	return t, err.Error(), ""
}
