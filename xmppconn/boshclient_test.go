package xmppconn_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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
	hs := httptest.NewUnstartedServer(srv)
	var dials atomic.Int64
	hs.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			dials.Add(1)
		}
	}
	hs.StartTLS()
	defer hs.Close()
	roots := x509.NewCertPool()
	roots.AddCert(hs.Certificate())
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
