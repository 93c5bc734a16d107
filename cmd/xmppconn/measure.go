package main

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/transport/bosh"
	"github.com/xmppconn/xmppconn/xmppconn"
	"github.com/xmppconn/xmppconn/xmppconn/jitsi"
)

// pingBound bounds the XEP-0199 ping a probe sends once connected.
const pingBound = 5 * time.Second

// probeRun is one probe: a Connection with the Jitsi layer and, for BOSH
// and discovery, an HTTP pool of its own, so that every probe measures a
// cold connection (lookup, TCP, TLS) as a new client would.
type probeRun struct {
	conn *xmppconn.Connection
	meet *jitsi.Deployment
	pool *http.Client // nil: the transport's own (WebSocket dials anew anyway)
}

// newProbeRun prepares a probe with cfg (Reconnect is turned off: a probe
// measures one attempt).
func newProbeRun(cfg xmppconn.Config) *probeRun {
	cfg.Reconnect = xmppconn.ReconnectConfig{Disabled: true, AttemptTimeout: cfg.Reconnect.AttemptTimeout}
	p := &probeRun{}
	if cfg.HTTPClient == nil && !webSocketURL(cfg.URL) {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if cfg.TLSConfig != nil {
			tr.TLSClientConfig = cfg.TLSConfig.Clone()
		}
		p.pool = bosh.NewHTTPClientFrom(tr)
		cfg.HTTPClient = p.pool
	}
	p.conn = xmppconn.New(cfg)
	// Operators probe Jitsi deployments: the Jitsi layer is on by default.
	p.meet = jitsi.Attach(p.conn, jitsi.Config{Logger: cfg.Logger})
	return p
}

// webSocketURL reports whether rawURL is a ws:// or wss:// endpoint.
func webSocketURL(rawURL string) bool {
	s, _, _ := strings.Cut(rawURL, "://")
	return strings.EqualFold(s, "ws") || strings.EqualFold(s, "wss")
}

// probeResult is what one probe measured.
type probeResult struct {
	index   int              // 1-based, in a run of probes
	attempt xmppconn.Attempt // the phases; zero when no attempt began
	err     error            // Connect's error
	failure *events.Failed   // why the probe failed; nil when it connected
	jid     string           // the bound JID
	// ping is the round trip of one XEP-0199 ping after CONNECTED (an
	// error answer counts: the server answered); pingErr says why there is
	// none.
	ping       time.Duration
	pingErr    error
	properties map[string]string // the Jitsi deployment's, when it told them
	duration   time.Duration     // connect and ping
}

// connected reports whether the probe's session came up.
func (r *probeResult) connected() bool { return r.failure == nil }

// errorType is the failure's error type, "" when the probe connected.
func (r *probeResult) errorType() string {
	if r.failure == nil {
		return ""
	}
	return string(r.failure.Err)
}

// connect runs the probe up to CONNECTED or the failure, then the ping; it
// leaves the session up for close.
func (p *probeRun) connect(ctx context.Context) probeResult {
	start := time.Now()
	err := p.conn.Connect(ctx)
	r := p.resultAfter(ctx, err)
	r.duration = time.Since(start)
	return r
}

// resultAfter completes a probe whose Connect returned err: the attempt,
// the ping and the properties.
func (p *probeRun) resultAfter(ctx context.Context, err error) probeResult {
	var r probeResult
	if err != nil {
		r.attempt, _ = p.conn.LastAttempt()
		r.err, r.failure = err, failureOf(err)
		return r
	}
	r.jid = p.conn.JID().String()
	if len(p.meet.Properties()) == 0 {
		// No properties push: ask the domain, as the Jitsi layer does (on
		// a goroutine of its own, maybe after the ping); the layer reads
		// the answer too.
		askDiscoInfo(ctx, p.conn)
	}
	r.ping, r.pingErr = ping(ctx, p.conn)
	// After the ping's answer, everything the server sent before it was
	// handled: the answer to <enable/>, and the answer to the disco#info
	// query, through the Jitsi layer.
	r.attempt, _ = p.conn.LastAttempt()
	if props := p.meet.Properties(); len(props) > 0 {
		r.properties = props
	}
	return r
}

// close ends the session, bounded, and the probe's HTTP pool.
func (p *probeRun) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := p.conn.Disconnect(ctx)
	p.closePool()
	return err
}

// closePool closes the idle connections of the probe's HTTP pool.
func (p *probeRun) closePool() {
	if p.pool != nil {
		p.pool.CloseIdleConnections()
	}
}

// failureOf returns the ConnectionFailed payload that err is (Connect's
// error), or one of type connection.otherError for another error.
func failureOf(err error) *events.Failed {
	var f events.Failed
	if errors.As(err, &f) {
		return &f
	}
	return &events.Failed{Err: events.OtherError, Reason: err.Error()}
}

// askDiscoInfo sends a disco#info query to the server's domain and waits
// for its answer, whatever it is.
func askDiscoInfo(ctx context.Context, c *xmppconn.Connection) {
	ctx, cancel := context.WithTimeout(ctx, pingBound)
	defer cancel()
	to, err := jid.Parse(c.JID().Domainpart())
	if err != nil {
		return
	}
	payload := xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: "http://jabber.org/protocol/disco#info", Local: "query"}})
	_, _ = c.SendIQ(ctx, stanza.IQ{Type: stanza.GetIQ, To: to}, payload)
}

// ping sends one XEP-0199 ping to the server and returns its round trip.
func ping(ctx context.Context, c *xmppconn.Connection) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, pingBound)
	defer cancel()
	to, err := jid.Parse(c.JID().Domainpart())
	if err != nil {
		return 0, err
	}
	payload := xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: "urn:xmpp:ping", Local: "ping"}})
	start := time.Now()
	_, err = c.SendIQ(ctx, stanza.IQ{Type: stanza.GetIQ, To: to}, payload)
	rtt := time.Since(start)
	var se *xmppconn.StanzaError
	if err != nil && !errors.As(err, &se) {
		return 0, err
	}
	return rtt, nil
}
