package websocket

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	coder "github.com/coder/websocket"

	"github.com/xmppconn/xmppconn/transport"
)

// Subprotocol is the WebSocket subprotocol of XMPP (RFC 7395 §3.1).
const Subprotocol = "xmpp"

// readSlack is what a message may hold beyond Limits.MaxElementSize before
// the WebSocket layer refuses it: whitespace around the element, which Check
// does not count.
const readSlack = 4 << 10

// Options holds the settings of Dial. A nil *Options, and the zero value of
// every field, mean the defaults.
type Options struct {
	// HTTPClient makes the upgrade request. Its Transport (and so its TLS
	// configuration) is used; its redirect policy is not: an HTTP 3xx answer
	// is always reported, never followed. nil means Dial makes the request
	// on a connection of its own (through a proxy from the environment when
	// one is set), with TLSConfig for wss.
	HTTPClient *http.Client
	// Header holds extra headers for the upgrade request.
	Header http.Header
	// Origin is sent as the Origin header when it is not empty.
	Origin string
	// TLSConfig is used for wss when HTTPClient is nil (for example to trust
	// custom RootCAs).
	TLSConfig *tls.Config
	// Limits bounds what the server may send; zero fields mean the defaults.
	Limits transport.Limits

	// Redact removes secrets from the server's text the Conn keeps in its
	// errors (a close frame's reason, a redirect target); nil: none.
	Redact transport.Redactor
	// From is the from of the <open/> elements, the client's bare JID;
	// empty: none. RFC 6120 §4.7.1 asks a client to send it on a stream
	// protected by TLS, and only there: on a ws:// stream it would show the
	// account to anyone on the path, so the caller decides.
	From string
	// PingInterval is how often to send WebSocket ping frames; a pong must
	// come back within the same interval, or the connection is considered
	// lost (ReadElement returns a *CloseError with Code 1006). Pongs are read
	// by ReadElement, so pings need a reader. 0 means no pings.
	PingInterval time.Duration
}

// Dial opens a WebSocket to rawURL (ws:// or wss://; http:// and https:// are
// taken as ws:// and wss://) for the XMPP domain, the to of the <open/> that
// Open sends.
//
// A server that does not select the "xmpp" subprotocol is refused with a
// *ProtocolError. An HTTP 3xx answer to the upgrade is returned as a
// *transport.RedirectError (Kind transport.RedirectHTTP, Target the Location
// resolved against rawURL, Status the HTTP status) and never followed, even
// when it points from wss to ws: the redirect policy belongs to the caller.
// Another non-101 answer is a *HandshakeError, a failure to connect a
// *DialError. No error holds the token of a ?token= query.
//
// An httptrace.ClientTrace in ctx sees the upgrade as it would an HTTP
// request: DNSStart, ConnectStart, TLSHandshakeStart and TLSHandshakeDone,
// then GotConn once the connection is ready for the upgrade request
// (xmppconn times the phases of a dial this way).
func Dial(ctx context.Context, rawURL, domain string, opts *Options) (*Conn, error) {
	if opts == nil {
		opts = &Options{}
	}
	if domain == "" {
		return nil, errors.New("websocket: dial: empty XMPP domain")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &DialError{URL: "(unparsable URL)", Err: errors.New("invalid URL")}
	}
	shown := redactURL(u)
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return nil, &DialError{URL: shown, Err: errors.New("scheme must be ws or wss")}
	}

	client, ownTransport, upgrade := upgradeClient(opts)
	if ownTransport != nil {
		defer ownTransport.CloseIdleConnections()
	}
	header := opts.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	if opts.Origin != "" {
		header.Set("Origin", opts.Origin)
	}
	ws, resp, err := coder.Dial(ctx, rawURL, &coder.DialOptions{
		HTTPClient:   client,
		HTTPHeader:   header,
		Subprotocols: []string{Subprotocol},
	})
	if err != nil {
		return nil, dialError(u, shown, resp, err, opts.Redact)
	}

	if ws.Subprotocol() != Subprotocol {
		_ = ws.CloseNow()
		return nil, &ProtocolError{Msg: "server did not select the xmpp subprotocol"}
	}
	limits := opts.Limits.WithDefaults()
	ws.SetReadLimit(int64(limits.MaxElementSize) + readSlack)

	c := newConn(ws, upgrade.raw, domain, opts.From, limits, resp)
	c.redact = opts.Redact
	if opts.PingInterval > 0 {
		c.startPing(opts.PingInterval)
	}
	return c, nil
}

// upgradeClient returns the client for the upgrade: a copy of the caller's
// (or of the default one) that reports redirects instead of following them,
// whose Transport keeps hold of the upgraded connection so that Close can cut
// it. ownTransport is set when Dial made the Transport itself.
func upgradeClient(opts *Options) (client *http.Client, ownTransport *http.Transport, upgrade *upgradeTransport) {
	var c http.Client
	switch {
	case opts.HTTPClient != nil:
		c = *opts.HTTPClient
	case opts.TLSConfig != nil:
		ownTransport = &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			TLSClientConfig:     opts.TLSConfig.Clone(),
			TLSHandshakeTimeout: 10 * time.Second,
			ReadBufferSize:      upgradeBufferSize,
			WriteBufferSize:     upgradeBufferSize,
		}
		c.Transport = newDirectTransport(opts.TLSConfig, ownTransport)
	default:
		c.Transport = defaultTransport
	}
	upgrade = &upgradeTransport{next: c.Transport}
	if upgrade.next == nil {
		upgrade.next = http.DefaultTransport
	}
	c.Transport = upgrade
	c.CheckRedirect = func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}
	return &c, ownTransport, upgrade
}

// dialError turns what coder.Dial returned into one of our errors.
func dialError(u *url.URL, shown string, resp *http.Response, err error, redact transport.Redactor) error {
	if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			loc := resp.Header.Get("Location")
			if loc == "" {
				return &HandshakeError{Status: resp.StatusCode, Header: resp.Header.Clone(), Err: errors.New("redirect without Location")}
			}
			target, perr := u.Parse(loc)
			if perr != nil {
				return &HandshakeError{Status: resp.StatusCode, Header: resp.Header.Clone(), Err: errors.New("redirect to an invalid Location")}
			}
			return &transport.RedirectError{Kind: transport.RedirectHTTP, Target: redact.Text(target.String()), Status: resp.StatusCode}
		}
		return &HandshakeError{Status: resp.StatusCode, Header: resp.Header.Clone(), Err: scrub(err, u)}
	}
	if resp != nil {
		// A 101 that coder refused: a broken handshake or an unknown
		// subprotocol or extension.
		return &ProtocolError{Msg: "invalid WebSocket handshake", Err: scrub(err, u)}
	}
	return &DialError{URL: shown, Err: scrub(err, u)}
}

// scrub returns err without the URL it may carry: an *url.Error from
// net/http names the whole URL, token included.
func scrub(err error, u *url.URL) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	if secret := u.Query().Get("token"); secret != "" && strings.Contains(err.Error(), secret) {
		return errors.New(strings.ReplaceAll(err.Error(), secret, "REDACTED"))
	}
	return err
}

// redactURL returns u as text with the token query parameter and any
// password replaced by REDACTED.
func redactURL(u *url.URL) string {
	r := *u
	if r.User != nil {
		if _, ok := r.User.Password(); ok {
			r.User = url.UserPassword(r.User.Username(), "REDACTED")
		}
	}
	if r.RawQuery != "" {
		q := r.Query()
		if q.Has("token") {
			q.Set("token", "REDACTED")
			r.RawQuery = q.Encode()
		}
	}
	return r.String()
}
