package xmppconn_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// TestBOSHTLSConfigKeepsConnections: with TLSConfig and no HTTPClient, the
// BOSH client is the Connection's, made once: a reconnection takes the
// connections the first session left, instead of dialing (and leaving
// those idle behind) with a new client per connect.
func TestBOSHTLSConfigKeepsConnections(t *testing.T) {
	xmpptest.NoLeaks(t)
	srv := &scriptedBOSH{release: make(chan struct{}), requests: map[uint64]string{}, message: make(chan struct{})}
	hs, dials, roots := countingTLSServer(t, srv)
	c := xmppconn.New(xmppconn.Config{
		URL:         hs.URL + "/http-bind",
		Domain:      "example.net",
		TLSConfig:   &tls.Config{RootCAs: roots},
		Credentials: auth.Credentials{Username: "alice", Password: auth.NewSecret("tls-pw")},
		AllowPlain:  true,
	})
	ctx := xmpptest.Context(t)
	for i := range 2 {
		before := dials.Load()
		if err := c.Connect(ctx); err != nil {
			t.Fatalf("Connect %d: %v", i+1, err)
		}
		if n := dials.Load() - before; i > 0 && n != 0 {
			t.Errorf("the second Connect dialed %d new connections, want none", n)
		}
		if err := c.Disconnect(context.Background()); err != nil {
			t.Fatalf("Disconnect %d: %v", i+1, err)
		}
	}
}

// TestHTTPClientFromTLSConfig: with TLSConfig and no HTTPClient, the
// Connection's HTTPClient (discovery, extensions) is made once and trusts
// TLSConfig: a second request takes the connection the first one left.
func TestHTTPClientFromTLSConfig(t *testing.T) {
	xmpptest.NoLeaks(t)
	hs, dials, roots := countingTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	c := xmppconn.New(xmppconn.Config{URL: "wss://example.net/xmpp-websocket", Domain: "example.net", TLSConfig: &tls.Config{RootCAs: roots}})
	hc := c.HTTPClient()
	if hc == nil || c.HTTPClient() != hc {
		t.Fatalf("HTTPClient() = %p, then %p: want one client for the Connection", hc, c.HTTPClient())
	}
	defer hc.CloseIdleConnections()
	for i := range 2 {
		resp, err := hc.Get(hs.URL)
		if err != nil {
			t.Fatalf("GET %d: %v", i+1, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("two requests dialed %d connections, want 1", n)
	}
	if plain := xmppconn.New(xmppconn.Config{URL: "wss://example.net/xmpp-websocket"}); plain.HTTPClient() != nil {
		t.Error("HTTPClient() without HTTPClient or TLSConfig is not nil")
	}
}

// countingTLSServer starts an HTTPS test server for h, closed at the end of
// the test, and returns it, the count of connections it accepted and a pool
// that trusts it.
func countingTLSServer(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int64, *x509.CertPool) {
	hs := httptest.NewUnstartedServer(h)
	dials := new(atomic.Int64)
	hs.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			dials.Add(1)
		}
	}
	hs.StartTLS()
	t.Cleanup(hs.Close)
	roots := x509.NewCertPool()
	roots.AddCert(hs.Certificate())
	return hs, dials, roots
}
