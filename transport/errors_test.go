package transport_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/xmppconn/xmppconn/transport"
)

// classified is a transport.Error of a transport from outside the module.
type classified struct {
	transient bool
	condition string
}

func (e classified) Error() string     { return "custom transport: " + e.condition }
func (e classified) Transient() bool   { return e.transient }
func (e classified) Condition() string { return e.condition }

func TestTransient(t *testing.T) {
	for _, tc := range []struct {
		name             string
		err              error
		transient, known bool
	}{
		{"nil", nil, false, false},
		{"plain error", errors.New("something"), false, false},
		{"custom transient", fmt.Errorf("wrapped: %w", classified{true, "reset"}), true, true},
		{"custom final", classified{false, "host-unknown"}, false, true},
		{"cancelled", fmt.Errorf("dial: %w", context.Canceled), false, true},
		{"deadline", context.DeadlineExceeded, true, true},
		{"limit", &transport.LimitError{What: "element size", Limit: 1}, false, true},
		{"unknown authority", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, false, true},
		{"host name", x509.HostnameError{Host: "example.com"}, false, true},
		{"network", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			transient, known := transport.Transient(tc.err)
			if transient != tc.transient || known != tc.known {
				t.Errorf("Transient(%v) = %v, %v; want %v, %v", tc.err, transient, known, tc.transient, tc.known)
			}
		})
	}
}

func TestCertificate(t *testing.T) {
	if !transport.Certificate(fmt.Errorf("tls: %w", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}})) {
		t.Error("a verification error is not reported as a certificate error")
	}
	if transport.Certificate(errors.New("tls: handshake failure")) {
		t.Error("a plain error is reported as a certificate error")
	}
}
