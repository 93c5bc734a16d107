package xmppconn

import (
	"context"

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
