package xmppconn

import (
	"context"
	"errors"
	"time"

	"mellium.im/xmpp/stream"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/transport/bosh"
)

// failure builds the ConnectionFailed payload for err. wasUp tells whether
// the session had been established (a lost session) or not (a failed
// attempt). Call with c.mu held.
func (c *Connection) failure(err error, tc interface{ Status() transport.Status }, wasUp bool) *events.Failed {
	f := &events.Failed{Err: events.OtherError, Cause: err}
	if !c.cfg.Credentials.Anonymous() && c.cfg.Token == nil {
		if d, e := c.domain(); e == nil {
			f.Credentials = c.cfg.Credentials.Username + "@" + d
		}
	}
	if tc != nil {
		st := tc.Status()
		f.Details.HTTPStatus = st.HTTPStatus
		f.Details.WSCloseCode = st.WSCloseCode
	}
	if !c.lastUp.IsZero() {
		f.Details.TimeSinceLastSuccessMS = time.Since(c.lastUp).Milliseconds()
	}

	var (
		fe     *auth.FailureError
		se     stream.Error
		te     *bosh.TerminateError
		re     *transport.RedirectError
		tke    *TokenError
		rre    *RedirectRefusedError
		reason string
	)
	switch {
	case errors.As(err, &tke):
		f.Err = events.PasswordRequired
		if tke.Refusal != nil {
			f.Details.Condition = tke.Refusal.Condition
		}
		reason = tke.Reason
	case errors.As(err, &rre):
		f.Details.Condition = rre.Kind
		reason = "redirect to " + rre.Target + " refused: " + rre.Reason
	case errors.As(err, &fe):
		f.Err = events.PasswordRequired
		f.Details.Condition = fe.Condition
		reason = fe.Text
		if reason == "" {
			reason = fe.Condition
		}
	case errors.As(err, &se):
		f.Details.Condition = se.Err
		reason = se.Err
		if len(se.Text) > 0 && se.Text[0].Value != "" {
			reason = se.Text[0].Value
		}
	case errors.As(err, &te):
		f.Details.Condition = te.Condition
		reason = te.Condition
		if te.Text != "" {
			reason = te.Text
		}
	case errors.As(err, &re):
		reason = "redirected (" + re.Kind + ") to " + re.Target + ", not followed"
	case errors.Is(err, context.DeadlineExceeded):
		reason = "timed out"
	case errors.Is(err, transport.ErrStreamClosed):
		reason = "stream closed by the server"
	default:
		reason = err.Error()
	}
	f.Reason = auth.RedactURL(reason)

	if wasUp && f.Err == events.OtherError {
		f.Err = events.DroppedError
		if f.Details.HTTPStatus >= 500 {
			f.Err = events.ServerError
		}
	}
	return f
}
