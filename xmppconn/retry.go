package xmppconn

import (
	"errors"
	"math"
	"time"

	"mellium.im/xmpp/stream"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/transport"
)

// reconnectDelay returns the wait before attempt n: uniformly random in
// [n*1.5 s, 3^n s), lib-jitsi-meet's schedule. rnd returns a number in
// [0, 1).
func reconnectDelay(n int, rnd func() float64) time.Duration {
	if n < 1 {
		n = 1
	}
	lo := time.Duration(float64(n) * 1.5 * float64(time.Second))
	hi := time.Duration(math.Pow(3, float64(n)) * float64(time.Second))
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(rnd()*float64(hi-lo))
}

// jitterDelay returns the wait before attempt n with full jitter: uniform in
// [0, min(maxDelay, 2^(n-1) s)]. rnd returns a number in [0, 1).
func jitterDelay(n int, maxDelay time.Duration, rnd func() float64) time.Duration {
	ceiling := maxDelay
	if n < 1 {
		n = 1
	}
	if n <= 32 { // 2^31 s is far beyond any cap
		ceiling = min(maxDelay, time.Duration(1<<(n-1))*time.Second)
	}
	return time.Duration(rnd() * float64(ceiling+1))
}

// delay returns the wait before attempt n, capped by MaxDelay.
func (c *Connection) delay(n int) time.Duration {
	d := c.cfg.Reconnect.Delay(n)
	if m := c.cfg.Reconnect.MaxDelay; m > 0 && d > m {
		d = m
	}
	return max(d, 0)
}

// mayTry reports whether the policy allows attempt n.
func (c *Connection) mayTry(n int) bool {
	return c.cfg.Reconnect.Unlimited || n <= c.cfg.Reconnect.Attempts
}

// Stream error conditions after which the client tries again (design.md).
var retryConditions = map[string]bool{
	"system-shutdown":          true,
	"connection-timeout":       true,
	"reset":                    true,
	"internal-server-error":    true,
	"remote-connection-failed": true,
}

// retryable reports whether a lost session or failed attempt may be tried
// again. The core decides on what it knows itself: stream errors (only the
// transient ones in retryConditions), SASL and token refusals, refused
// redirects, protocol and bind errors, a bad configuration. For the rest it
// asks the error what it is (transport.Transient: a transport.Error, a
// net.Error, a certificate that failed verification), never which package
// it came from, so that a transport plugged in through Config.Dial is
// treated like the built-in ones. An error nothing says anything about (a
// network error from below the transport) is tried again.
func retryable(err error) bool {
	var (
		se  stream.Error
		fe  *auth.FailureError
		re  *transport.RedirectError
		rre *RedirectRefusedError
		pe  *ProtocolError
		be  *BindError
		ce  *ConfigError
		tke *TokenError
	)
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrAttemptTimeout):
		return true
	case errors.As(err, &tke), errors.As(err, &fe), errors.As(err, &rre), errors.As(err, &re),
		errors.As(err, &pe), errors.As(err, &be), errors.As(err, &ce):
		return false
	case errors.Is(err, auth.ErrNoMechanism):
		return false
	case errors.As(err, &se):
		return retryConditions[se.Err]
	}
	if transient, known := transport.Transient(err); known {
		return transient
	}
	return true
}
