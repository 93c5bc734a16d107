package websocket

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// upgradeBufferSize is the size of the read and write buffers of the
// connection of an upgrade request. They serve the handshake only
// (coder/websocket reads and writes the upgraded connection through its
// own), so net/http's 4 KiB each would be garbage made by every dial.
const upgradeBufferSize = 1 << 10

// Dial settings of http.DefaultTransport.
const (
	dialTimeout = 30 * time.Second
	keepAlive   = 30 * time.Second
)

// newDirectTransport returns the upgrade transport of a Dial without an
// HTTPClient: direct connections secured with cfg (nil: the defaults), and
// fallback for requests through a proxy.
func newDirectTransport(cfg *tls.Config, fallback http.RoundTripper) *directTransport {
	return &directTransport{
		tls:      cfg,
		dialer:   net.Dialer{Timeout: dialTimeout, KeepAlive: keepAlive},
		proxy:    http.ProxyFromEnvironment,
		fallback: fallback,
	}
}

// defaultTransport is the upgrade transport of a Dial whose Options has no
// HTTPClient and no TLSConfig; its fallback is a clone of
// http.DefaultTransport with small buffers.
var defaultTransport = func() *directTransport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ReadBufferSize, tr.WriteBufferSize = upgradeBufferSize, upgradeBufferSize
	return newDirectTransport(nil, tr)
}()
