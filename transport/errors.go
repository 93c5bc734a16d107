package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
)

// Error is implemented by the errors of a transport that know what they
// mean for the session. The session layer decides whether to try again, and
// what to report, by this interface, never by a transport's concrete types,
// so that a transport plugged in from outside the module is treated like the
// built-in ones (as net/http does with net.Error's Timeout).
type Error interface {
	error
	// Transient reports whether a new attempt, on a new connection, may
	// succeed: a network fault, a timeout, an HTTP 5xx, a connection lost
	// without a close. False means the next attempt would fail the same way:
	// a refused certificate, an HTTP 4xx, a malformed answer, a condition
	// that names a client error.
	Transient() bool
	// Condition is the protocol condition the server named (a BOSH
	// terminate condition, an RFC 6120 stream error condition), or "".
	Condition() string
}

// HTTPStatuser is implemented by errors that carry the status code of the
// HTTP response that caused them, such as a refused WebSocket upgrade.
type HTTPStatuser interface {
	HTTPStatus() int
}

// ServerTexter is implemented by errors that carry human-readable text from
// the server (the <text/> of a stream error, the reason of a close frame).
// The text is the server's: show it only after redacting secrets.
type ServerTexter interface {
	ServerText() string
}

// Transient classifies err by behaviour: the answer of the first
// transport.Error in its chain; false for a cancelled context (the caller
// gave up), a certificate that failed verification and a LimitError (the
// same server input would come again); true for the other network errors
// and timeouts. known is false when nothing in err says either way; the
// caller then chooses (an error from below the transport is normally a
// network fault).
func Transient(err error) (transient, known bool) {
	var (
		te Error
		le *LimitError
		ne net.Error
	)
	switch {
	case err == nil:
		return false, false
	case errors.As(err, &te):
		return te.Transient(), true
	case errors.Is(err, context.Canceled):
		return false, true
	case errors.As(err, &le):
		return false, true
	case Certificate(err):
		return false, true
	case errors.Is(err, context.DeadlineExceeded):
		return true, true
	case errors.As(err, &ne):
		return true, true
	}
	return false, false
}

// Certificate reports whether err is a TLS certificate that failed
// verification. Such an error is final, and the user's fix is to trust the
// server's CA (a private CA file) or correct the host name.
func Certificate(err error) bool {
	var (
		cve *tls.CertificateVerificationError
		uae x509.UnknownAuthorityError
		cie x509.CertificateInvalidError
		hne x509.HostnameError
	)
	return errors.As(err, &cve) || errors.As(err, &uae) || errors.As(err, &cie) || errors.As(err, &hne)
}

// Redactor removes secrets (the account's password and token) from server
// text that a transport keeps in its errors: the reason of a WebSocket close
// frame, a redirect target. The session layer, which knows the secrets,
// passes one in the transports' Options; nil removes nothing.
type Redactor func(string) string

// Text returns s with the secrets removed.
func (r Redactor) Text(s string) string {
	if r == nil {
		return s
	}
	return r(s)
}

// Error returns err, or an error of the redacted text when err's text held
// a secret: the original, whose text still holds it, is not kept.
func (r Redactor) Error(err error) error {
	if r == nil || err == nil {
		return err
	}
	if t := r(err.Error()); t != err.Error() {
		return errors.New(t)
	}
	return err
}
