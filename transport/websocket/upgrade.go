package websocket

import (
	"io"
	"net/http"
	"sync"
)

// upgradeTransport wraps the caller's RoundTripper to keep hold of the
// connection a 101 response hands over. coder/websocket owns that connection
// but offers no way to cut it while its own close handshake waits (up to
// 5 s twice); closing it under coder is how Close stays bounded.
type upgradeTransport struct {
	next http.RoundTripper
	raw  *rawConn // set by a 101 response
}

// RoundTrip performs the request with the wrapped RoundTripper.
func (t *upgradeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		return resp, err
	}
	if rwc, ok := resp.Body.(io.ReadWriteCloser); ok {
		t.raw = &rawConn{ReadWriteCloser: rwc}
		resp.Body = t.raw
	}
	return resp, nil
}

// rawConn is the upgraded connection; Close may be called more than once.
type rawConn struct {
	io.ReadWriteCloser
	once sync.Once
	err  error
}

// Close closes the connection once.
func (r *rawConn) Close() error {
	r.once.Do(func() { r.err = r.ReadWriteCloser.Close() })
	return r.err
}
