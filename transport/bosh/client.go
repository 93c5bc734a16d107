package bosh

import "net/http"

// connBufferSize is the size of the read and write buffers of each HTTP
// connection of NewHTTPClient. net/http's default is 4 KiB each, held for
// as long as the connection lives: one long-poll connection per idle
// session. BOSH requests and the answers to an idle session are a few
// hundred bytes, and larger bodies are read and written past the buffer.
const connBufferSize = 1 << 10

// NewHTTPClient returns an HTTP client with the settings a Conn uses when
// Options.HTTPClient is nil: NewHTTPClientFrom with a clone of
// http.DefaultTransport whose buffers are 1 KiB instead of 4 KiB. Use it to
// give a group of connections their own pool; the default one is shared by
// every Conn of the process.
func NewHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ReadBufferSize, tr.WriteBufferSize = connBufferSize, connBufferSize
	return NewHTTPClientFrom(tr)
}

// NewHTTPClientFrom returns an HTTP client for BOSH that takes its settings
// from tr: HTTP/1.1 over kept-alive connections (up to 2 idle per server,
// for 90 seconds, as http.DefaultTransport keeps them) dialed with
// tr.DialContext wrapped in QuickAckDial, with tr.TLSClientConfig for
// https (nil: the defaults); each request is written, and its answer read,
// on the goroutine that sends it, with no goroutine per connection. A
// request that tr.Proxy sends to a proxy goes through tr itself, as it is.
// Use it to trust a private CA:
//
//	tr := http.DefaultTransport.(*http.Transport).Clone()
//	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
//	opts := &bosh.Options{HTTPClient: bosh.NewHTTPClientFrom(tr)}
//
// The client is for BOSH only: it cannot upgrade a connection to WebSocket.
// tr must not be changed once the client is in use.
func NewHTTPClientFrom(tr *http.Transport) *http.Client {
	rt := newRoundTripper(tr)
	rt.dial = QuickAckDial(rt.dial)
	return &http.Client{Transport: rt}
}

// defaultClient is the client of a Conn whose Options.HTTPClient is nil.
var defaultClient = NewHTTPClient()
