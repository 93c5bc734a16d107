package xmppconn

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"

	"mellium.im/xmpp"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/transport"
)

// Config holds the settings of a Connection. The zero value of every field is
// a sensible default; only URL is required.
type Config struct {
	// URL is the endpoint: ws:// or wss:// for WebSocket, http:// or https://
	// for BOSH.
	URL string

	// Domain is the XMPP domain (the 'to' of the stream, and the domain of
	// the JID to log in as). Default: the host of URL.
	Domain string

	// Credentials to authenticate with: Username is the localpart of the
	// JID on Domain. The zero value logs in with SASL ANONYMOUS.
	Credentials auth.Credentials

	// Resource is the resource to ask for at bind time; empty lets the server
	// choose one.
	Resource string

	// HTTPClient is used for BOSH requests and the WebSocket handshake.
	// nil: http.DefaultClient (or a client built from TLSConfig).
	HTTPClient *http.Client

	// TLSConfig is used for wss:// and https:// when HTTPClient is nil, for
	// example to trust a private CA. Verification stays on unless the caller
	// turns it off here.
	TLSConfig *tls.Config

	// Header holds extra HTTP headers sent with the WebSocket handshake and
	// every BOSH request.
	Header http.Header

	// Origin is the Origin header of the WebSocket handshake, if any.
	Origin string

	// AllowPlain permits SASL PLAIN over a transport without TLS. Off by
	// default: PLAIN is used only over TLS.
	AllowPlain bool

	// Mechanisms restricts SASL to these mechanisms, in this order of
	// preference. Empty: SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS, SCRAM-SHA-256,
	// SCRAM-SHA-1, PLAIN (see auth.Choose).
	Mechanisms []string

	// Handler receives the stanzas of the session (see mellium.im/xmpp/mux).
	// nil ignores them (and answers IQ get/set with service-unavailable).
	// XEP-0199 pings from the server are answered before the Handler sees them.
	Handler xmpp.Handler

	// Logger receives debug and error logs. nil discards them. Secrets never
	// reach it.
	Logger *slog.Logger

	// Limits bounds what the server may send (element size and nesting).
	Limits transport.Limits

	// Dial, when set, opens the transport instead of the built-in WebSocket
	// and BOSH transports (for a custom transport, or a test double).
	Dial func(ctx context.Context, url, domain string) (transport.Conn, error)
}
