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
