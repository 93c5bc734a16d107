package bosh

import "net/http"

// connBufferSize is the size of the read and write buffers of each HTTP
// connection of NewHTTPClient. net/http's default is 4 KiB each, held for
// as long as the connection lives: one long-poll connection per idle
// session. BOSH requests and the answers to an idle session are a few
// hundred bytes, and larger bodies are read and written past the buffer.
const connBufferSize = 1 << 10

// NewHTTPClient returns an HTTP client with the settings a Conn uses when
// Options.HTTPClient is nil: HTTP/1.1 over kept-alive connections (up to 2
// idle per server, for 90 seconds, as http.DefaultTransport keeps them)
// whose requests are written and answered on the goroutine that sends them,
// with no goroutine per connection; connections that acknowledge at once
// (QuickAckDial) and keep a 1 KiB read buffer. Requests through a proxy
// from the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) go through a
// clone of http.DefaultTransport with the same dialing. Use it to give a
// group of connections their own pool; the default one is shared by every
// Conn of the process.
func NewHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = QuickAckDial(tr.DialContext)
	tr.ReadBufferSize, tr.WriteBufferSize = connBufferSize, connBufferSize
	return &http.Client{Transport: newRoundTripper(tr)}
}

// defaultClient is the client of a Conn whose Options.HTTPClient is nil.
var defaultClient = NewHTTPClient()
