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

// NewHTTPClientFrom returns an HTTP client for BOSH with tr's settings: a
// clone of tr whose connections acknowledge at once (QuickAckDial around
// tr.DialContext). Use it to trust a private CA:
//
//	tr := http.DefaultTransport.(*http.Transport).Clone()
//	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
//	opts := &bosh.Options{HTTPClient: bosh.NewHTTPClientFrom(tr)}
func NewHTTPClientFrom(tr *http.Transport) *http.Client {
	tr = tr.Clone()
	tr.DialContext = QuickAckDial(tr.DialContext)
	return &http.Client{Transport: tr}
}

// defaultClient is the client of a Conn whose Options.HTTPClient is nil.
var defaultClient = NewHTTPClient()
