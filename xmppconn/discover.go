package xmppconn

import (
	"context"
	"net/url"
	"strings"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/transport"
)

// Discover returns the WebSocket and BOSH endpoints an XMPP domain publishes
// in its host-meta documents (XEP-0156), best first: wss://, then https://
// BOSH, then — only with opts.Insecure — ws:// and http://. It is
// transport.Discover, re-exported so that a program using this package needs
// nothing else; see there for the rules (timeouts, size bounds, redirects,
// the *transport.DiscoveryError returned when nothing usable is found).
// domain may carry a port ("host:port") for a server on a non-standard port.
func Discover(ctx context.Context, domain string, opts *transport.DiscoverOptions) ([]transport.Endpoint, error) {
	return transport.Discover(ctx, domain, opts)
}

// bareDomain reports whether a Config.URL is a domain to discover rather
// than an endpoint URL, and returns its host without port.
func bareDomain(raw string) (string, bool) {
	if raw == "" || strings.Contains(raw, "://") {
		return "", false
	}
	u, err := url.Parse("https://" + raw)
	if err != nil || u.Hostname() == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
		return "", false
	}
	return u.Hostname(), true
}

// resolveEndpoint returns the endpoint URL to dial (without token) and the
// one configured or discovered before any redirect. When Config.URL is a
// bare domain or empty, the first attempt discovers it (XEP-0156) with
// Config.Discover, using the connection's HTTP client unless that sets its
// own; later attempts reuse what was found.
func (c *Connection) resolveEndpoint(ctx context.Context, domain string) (endpoint, origin string, err error) {
	c.route.mu.Lock()
	endpoint, origin = c.route.endpoint, c.route.origin
	c.route.mu.Unlock()
	if endpoint != "" {
		return endpoint, origin, nil
	}
	raw := c.cfg.URL
	if strings.Contains(raw, "://") {
		endpoint = raw
	} else {
		target := raw
		if target == "" {
			target = domain
		}
		opts := c.cfg.Discover
		if opts.HTTPClient == nil {
			opts.HTTPClient = c.HTTPClient()
		}
		c.attemptRecord().mark(idDiscover, 0)
		eps, err := transport.Discover(ctx, target, &opts)
		if err != nil {
			return "", "", err
		}
		endpoint = eps[0].URL
		c.log.Debug("xmppconn: discovered endpoint", "domain", target, "url", auth.RedactURL(endpoint))
	}
	c.route.mu.Lock()
	if c.route.endpoint == "" {
		c.route.endpoint, c.route.origin = endpoint, endpoint
	}
	endpoint, origin = c.route.endpoint, c.route.origin
	c.route.mu.Unlock()
	return endpoint, origin, nil
}

// Endpoint returns the endpoint URL the connection dials (token redacted):
// the configured one, the one discovery found, or where the last followed
// redirect led. It is empty before the first attempt resolved it.
func (c *Connection) Endpoint() string {
	c.route.mu.Lock()
	defer c.route.mu.Unlock()
	return auth.RedactURL(c.route.endpoint)
}
