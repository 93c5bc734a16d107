package xmppconn

import (
	"context"
	"crypto/tls"
	"errors"
	"math"
	"time"

	"mellium.im/xmpp/stream"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/transport/bosh"
	"github.com/xmppconn/xmppconn/transport/websocket"
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

// BOSH terminate conditions that mean the session is gone but a new one
// may work.
var retryTerminate = map[string]bool{
	"":                         true, // terminated without a condition
	"item-not-found":           true, // the server forgot the session
	"remote-connection-failed": true,
	"system-shutdown":          true,
	"undefined-condition":      true,
	"other-request":            true,
}

// retryable reports whether a lost session or failed attempt may be tried
// again: loss of the transport without a stream error, timeouts, HTTP 5xx,
// WebSocket close 1006, and the transient stream errors. SASL failures,
// refused redirects, protocol errors and the other stream errors are final.
func retryable(err error) bool {
	var (
		se  stream.Error
		fe  *auth.FailureError
		te  *bosh.TerminateError
		he  *bosh.HTTPError
		re  *transport.RedirectError
		pe  *ProtocolError
		be  *BindError
		ce  *ConfigError
		wce *websocket.CloseError
		hse *websocket.HandshakeError
		tve *tls.CertificateVerificationError
		tke *TokenError
	)
	switch {
	case err == nil:
		return false
	case errors.As(err, &tke), errors.As(err, &fe), errors.As(err, &re), errors.As(err, &pe), errors.As(err, &be), errors.As(err, &ce):
		return false
	case errors.Is(err, auth.ErrNoMechanism):
		return false
	case errors.As(err, &se):
		return retryConditions[se.Err]
	case errors.As(err, &te):
		return retryTerminate[te.Condition]
	case errors.As(err, &he):
		return he.Status >= 500 || he.Status == 0
	case errors.As(err, &hse):
		return hse.Status >= 500
	case errors.As(err, &wce):
		return true // closed without <close/>: 1006 and the like
	case errors.Is(err, context.Canceled):
		return false
	case errors.As(err, &tve):
		return false // a certificate that failed verification will not heal
	}
	// Network errors, timeouts, a stream closed by the server: try again.
	return true
}
