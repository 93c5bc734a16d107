package websocket

import "net/http"

// upgradeBufferSize is the size of the read and write buffers net/http
// gives the connection of an upgrade request. They serve the handshake
// only (coder/websocket reads and writes the upgraded connection through
// its own), so net/http's 4 KiB each would be garbage made by every dial.
const upgradeBufferSize = 1 << 10

// NewHTTPClient returns an HTTP client with the settings Dial uses when
// Options.HTTPClient and Options.TLSConfig are nil: a clone of
// http.DefaultTransport (proxy from the environment, the same timeouts)
// with 1 KiB connection buffers instead of 4 KiB.
func NewHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ReadBufferSize, tr.WriteBufferSize = upgradeBufferSize, upgradeBufferSize
	return &http.Client{Transport: tr}
}

// defaultClient is the client of a Dial whose Options has no HTTPClient
// and no TLSConfig.
var defaultClient = NewHTTPClient()
