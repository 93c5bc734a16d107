package bosh

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/transport"
)

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	n *atomic.Int32
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// TestUntrustedCertificate checks that a certificate that fails
// verification ends Open after one try, with an error that says so.
func TestUntrustedCertificate(t *testing.T) {
	var conns, requests atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		requests.Add(1)
	}))
	srv.Listener = countingListener{Listener: srv.Listener, n: &conns}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake errors
	srv.StartTLS()
	defer srv.Close()

	hc := NewHTTPClient() // system roots: the test certificate is not trusted
	defer hc.CloseIdleConnections()
	c, err := Dial(testCtx(t), srv.URL+"/http-bind", "example.com", &Options{HTTPClient: hc, Tries: 3, Backoff: []time.Duration{time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(testCtx(t))
	_, err = c.Open(testCtx(t), false)
	if err == nil {
		t.Fatal("Open succeeded against an untrusted certificate")
	}
	if !transport.Certificate(err) {
		t.Errorf("transport.Certificate(%v) = false", err)
	}
	if transient, known := transport.Transient(err); transient || !known {
		t.Errorf("transport.Transient(%v) = %v, %v; want final", err, transient, known)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1 (no retry)", n)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests reached the handler", n)
	}
}
