package xmppconn

import (
	"context"
	"crypto/tls"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/transport"
)

// Config holds the settings of a Connection. The zero value of every field is
// a sensible default; only URL (or Domain) is required.
type Config struct {
	// URL is the endpoint: ws:// or wss:// for WebSocket, http:// or https://
	// for BOSH. A bare domain ("example.com", or "example.com:8443"), or an
	// empty URL with Domain set, is looked up with XEP-0156 discovery (see
	// Discover) and the preferred endpoint is used.
	URL string

	// Domain is the XMPP domain (the 'to' of the stream, and the domain of
	// the JID to log in as). Default: the domain of Credentials.Username
	// when it is a JID, else the host of URL.
	Domain string

	// Credentials to authenticate with. Username is the account: its
	// localpart on Domain ("bob"), or its bare JID ("bob@example.com"),
	// whose domain is then the default Domain (and a resource in it the
	// default Resource). The zero value logs in with SASL ANONYMOUS.
	Credentials auth.Credentials

	// Resource is the resource to ask for at bind time; empty lets the server
	// choose one.
	Resource string

	// HTTPClient is used for BOSH requests and the WebSocket handshake.
	// nil: the transports' own, secured with TLSConfig when it is set (for
	// BOSH one client per Connection, with bosh.NewHTTPClientFrom; for the
	// WebSocket handshake websocket.Options.TLSConfig), else their defaults
	// (see websocket.Options and bosh.Options).
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

	// Handler receives the stanzas of the session (see mellium.im/xmpp/mux),
	// one at a time and in order, on a goroutine that exists while stanzas
	// wait. An IQ get or set it leaves unanswered gets service-unavailable;
	// nil ignores every stanza (and answers IQ get/set that way). An error
	// it returns is logged and the session goes on. XEP-0199 pings from the
	// server are answered before the Handler sees them.
	Handler xmpp.Handler

	// Logger receives debug and error logs. nil discards them. Secrets never
	// reach it.
	Logger *slog.Logger

	// Limits bounds what the server may send (element size and nesting).
	Limits transport.Limits

	// Ping configures liveness checks (XEP-0199 pings, and WebSocket ping
	// frames). Zero: every 10 s while no data flows, 5 s timeout, 2 misses
	// in a row mean the connection is dead.
	Ping PingConfig

	// Reconnect configures what happens when a live session is lost. Zero:
	// resume (XEP-0198) or reconnect, 3 attempts, attempt N after a delay
	// drawn from [N*1.5 s, 3^N s).
	Reconnect ReconnectConfig

	// StreamManagement configures XEP-0198. Zero: enabled with resumption
	// when the server offers it; an ack is requested when the outgoing
	// stanzas pause, when 100 stanzas or 128 KiB wait for one, and at
	// the latest 1 s after a stanza was sent (see StreamManagementConfig).
	StreamManagement StreamManagementConfig

	// SASL2 configures XEP-0388 SASL2 with Bind 2 and inline stream
	// management, and XEP-0484 FAST tokens. Zero: used whenever the server
	// offers them.
	SASL2 SASL2Config

	// SCRAMKeys configures the cache of the keys a SCRAM login derives from
	// the password. Zero: a cache of the Connection's own.
	SCRAMKeys SCRAMKeysConfig

	// InboundLimit bounds, in bytes, each queue of what the server sent and
	// the client has not handled yet: the stanzas that arrive during
	// negotiation (past the bound the attempt ends with a
	// *transport.LimitError), the elements read and not yet processed, and
	// the stanzas waiting for the Handler (past the bound the client stops
	// reading until there is room, so that TCP slows the server down).
	// Each element counts the memory it holds plus 128 bytes. Zero: 4 MiB. With the
	// default limits a Connection holds at most about 12 MiB of server
	// input, whatever the server sends.
	InboundLimit int

	// QueueLimit bounds the stanzas held while the session is down
	// (DISCONNECTED or RECONNECTING) and sent once it is back; a send past
	// the bound fails with ErrQueueFull. Zero: 1000.
	QueueLimit int

	// Dial, when set, opens the transport instead of the built-in WebSocket
	// and BOSH transports (for a custom transport, or a test double).
	Dial func(ctx context.Context, url, domain string) (transport.Conn, error)

	// Token, when set, authenticates with a token the way Jitsi deployments
	// expect it: ?token= on the endpoint URL (and ?previd= when resuming)
	// with SASL ANONYMOUS; Credentials and Mechanisms are then ignored. The
	// token is checked for expiry before every connect and resume (see
	// token.go). nil: no token.
	Token auth.TokenSource

	// ClockSkew is the margin by which a token counts as expired early.
	// Zero: auth.DefaultClockSkew; negative: no margin (a duration, not a
	// switch: there is nothing to turn off).
	ClockSkew time.Duration

	// Clock returns the current time for token expiry checks. nil: time.Now.
	// A bot whose host clock is known to be off may pass a corrected one.
	Clock func() time.Time

	// Redirect is the policy for server redirects. Zero: follow at most 3
	// hops, never from TLS to plaintext, never to another domain.
	Redirect RedirectConfig

	// Discover configures XEP-0156 discovery, used when URL is a bare domain
	// (or empty with Domain set). Zero: the defaults of transport.Discover,
	// with the Connection's HTTP client.
	Discover transport.DiscoverOptions
}

// The sub-configurations of Config follow one convention: each is a value
// whose zero value is the default, a feature that can be turned off has a
// Disabled field (never a negative number or a No… flag), and withDefaults
// fills every default in one place, so that the code reads c.cfg as it is.

// PingConfig configures liveness checks. The zero value is lib-jitsi-meet's
// behaviour.
type PingConfig struct {
	Disabled bool
	Interval time.Duration // between checks while no data flows; default 10 s
	Timeout  time.Duration // wait for an answer; default 5 s
	Failures int           // misses in a row that mean the connection is lost; default 2
}

// ReconnectConfig configures the recovery of a lost session, and of the
// first Connect when RetryConnect is set.
//
// The zero value is lib-jitsi-meet's policy, which suits a browser tab a
// person can reload: 3 attempts, attempt n after a wait drawn from
// [n·1.5 s, 3^n s), then FAILED about 21 s after the drop at worst. A
// service (a bot) has no person to reload it: ServiceReconnect retries until
// Disconnect, with waits capped at 30 s.
type ReconnectConfig struct {
	// Disabled turns recovery off: a lost session ends in FAILED at once.
	Disabled bool
	// Attempts is the number of attempts before giving up; default 3.
	// Ignored when Unlimited is set.
	Attempts int
	// Unlimited retries until Disconnect (or an error that cannot heal,
	// such as a refused password).
	Unlimited bool
	// Delay returns the wait before attempt n (1-based). nil: with MaxDelay
	// zero, lib-jitsi-meet's schedule, uniform in [n·1.5 s, 3^n s); with
	// MaxDelay set, full jitter, uniform in [0, min(MaxDelay, 2^(n-1) s)].
	Delay func(n int) time.Duration
	// MaxDelay caps every wait, Delay's included. Zero: no cap.
	MaxDelay time.Duration
	// RetryConnect retries the first Connect under the same policy when its
	// error may heal (the server is down, a timeout): Connect then returns
	// once connected, when the policy gives up, when an error cannot heal,
	// or when ctx ends. Each failed attempt is reported as FAILED with its
	// ConnectionFailed, followed by CONNECTING for the next one.
	RetryConnect bool
	// AttemptTimeout bounds one attempt (dial, authentication, resumption
	// or bind), the first Connect's included; default 30 s.
	AttemptTimeout time.Duration
}

// ServiceReconnect returns the reconnection policy for a long-running
// service: retry for ever (until Disconnect, or an error that cannot heal),
// the first Connect included, waits with full jitter capped at 30 s (at
// most 1, 2, 4, 8, 16, then 30 s). Use it as
//
//	cfg.Reconnect = xmppconn.ServiceReconnect()
func ServiceReconnect() ReconnectConfig {
	return ReconnectConfig{Unlimited: true, RetryConnect: true, MaxDelay: DefaultServiceMaxDelay}
}

// StreamManagementConfig configures XEP-0198 stream management: the
// resumption of a lost session, and the acknowledgements that tell which
// stanzas the server has. A stanza sent and not yet acknowledged is kept, to
// be sent again after a resumption (or, with an XEP-0203 delay, on a new
// session), so that none is lost.
//
// Acknowledgements cost the server more than they cost the client: each
// <r/> the client sends is answered with an <a/>, behind which the server
// may ask for one of its own. So the client asks only when it is worth it:
// once its outgoing stanzas pause for RequestIdle (the end of a burst), once
// half of MaxUnacked or of MaxUnackedBytes wait for an ack, and at the
// latest RequestMaxDelay after a stanza was sent; never per few stanzas. It
// answers the server's <r/> at once, with one <a/> for all the requests read
// before that answer is written.
type StreamManagementConfig struct {
	// Disabled keeps the client from enabling stream management.
	Disabled bool

	// MaxUnacked bounds the stanzas sent and not yet acknowledged; default
	// 200. An ack is requested once half of them wait for one. At the
	// bound, Send waits for the server's ack (bounded by its context, and
	// by 30 s, after which the connection counts as dead); the stanzas the
	// Connection sends itself (answers to the server, pings) wait in the
	// send queue (Config.QueueLimit) instead.
	MaxUnacked int

	// MaxUnackedBytes bounds the size of those stanzas likewise; default
	// 256 KiB. A stanza larger than the bound is sent alone.
	MaxUnackedBytes int

	// RequestIdle is how long the outgoing stanzas must pause before an ack
	// is requested for those sent (the end of a burst); default 100 ms.
	RequestIdle time.Duration

	// RequestMaxDelay is the longest a stanza goes without an ack being
	// requested for it, however the stanzas flow; default 1 s.
	RequestMaxDelay time.Duration
}

// Defaults of Config.
const (
	DefaultPingInterval      = 10 * time.Second
	DefaultPingTimeout       = 5 * time.Second
	DefaultPingFailures      = 2
	DefaultReconnectAttempts = 3
	DefaultAttemptTimeout    = 30 * time.Second
	DefaultServiceMaxDelay   = 30 * time.Second
	DefaultQueueLimit        = 1000
	DefaultInboundLimit      = 4 << 20

	// Stream management (see StreamManagementConfig), chosen by measuring
	// Prosody's CPU per message (docs/performance.md).
	DefaultMaxUnacked      = 200
	DefaultMaxUnackedBytes = 256 << 10
	DefaultRequestIdle     = 100 * time.Millisecond
	DefaultRequestMaxDelay = time.Second
)

// setDefault sets *v to d when it is zero (or negative, which no setting
// of this package means).
func setDefault[T int | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// withDefaults returns the config with zero values replaced by defaults.
func (c Config) withDefaults() Config {
	if u := c.Credentials.Username; strings.Contains(u, "@") {
		if j, err := jid.Parse(u); err == nil && j.Localpart() != "" {
			c.Credentials.Username = j.Localpart()
			if c.Domain == "" {
				c.Domain = j.Domainpart()
			}
			if c.Resource == "" {
				c.Resource = j.Resourcepart()
			}
		}
	}
	setDefault(&c.Ping.Interval, DefaultPingInterval)
	setDefault(&c.Ping.Timeout, DefaultPingTimeout)
	setDefault(&c.Ping.Failures, DefaultPingFailures)
	setDefault(&c.Reconnect.Attempts, DefaultReconnectAttempts)
	setDefault(&c.Reconnect.AttemptTimeout, DefaultAttemptTimeout)
	switch {
	case c.Reconnect.Delay != nil:
	case c.Reconnect.MaxDelay > 0:
		maxDelay := c.Reconnect.MaxDelay
		c.Reconnect.Delay = func(n int) time.Duration { return jitterDelay(n, maxDelay, rand.Float64) }
	default:
		c.Reconnect.Delay = func(n int) time.Duration { return reconnectDelay(n, rand.Float64) }
	}
	setDefault(&c.StreamManagement.MaxUnacked, DefaultMaxUnacked)
	setDefault(&c.StreamManagement.MaxUnackedBytes, DefaultMaxUnackedBytes)
	setDefault(&c.StreamManagement.RequestIdle, DefaultRequestIdle)
	setDefault(&c.StreamManagement.RequestMaxDelay, DefaultRequestMaxDelay)
	setDefault(&c.QueueLimit, DefaultQueueLimit)
	setDefault(&c.InboundLimit, DefaultInboundLimit)
	if c.SASL2.Tag == "" {
		c.SASL2.Tag = DefaultBind2Tag
	}
	if c.SASL2.FAST.Store == nil && !c.SASL2.FAST.Disabled {
		c.SASL2.FAST.Store = auth.NewMemoryFASTStore()
	}
	if c.SCRAMKeys.Cache == nil && !c.SCRAMKeys.Disabled {
		c.SCRAMKeys.Cache = auth.NewSCRAMKeyCache()
	}
	setDefault(&c.Redirect.MaxHops, DefaultRedirectHops)
	switch {
	case c.ClockSkew == 0:
		c.ClockSkew = auth.DefaultClockSkew
	case c.ClockSkew < 0:
		c.ClockSkew = 0
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
