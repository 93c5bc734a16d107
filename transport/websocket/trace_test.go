package websocket

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"

	coder "github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
)

// hookLog records the httptrace hooks that ran, in order, a hook repeated
// in a row once (happy eyeballs may start two connections).
type hookLog struct {
	mu    sync.Mutex
	hooks []string
	tls   tls.ConnectionState
}

func (l *hookLog) add(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.hooks); n > 0 && l.hooks[n-1] == name {
		return
	}
	l.hooks = append(l.hooks, name)
}

func (l *hookLog) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart:          func(httptrace.DNSStartInfo) { l.add("DNSStart") },
		ConnectStart:      func(string, string) { l.add("ConnectStart") },
		TLSHandshakeStart: func() { l.add("TLSHandshakeStart") },
		TLSHandshakeDone: func(st tls.ConnectionState, err error) {
			if err == nil {
				l.mu.Lock()
				l.tls = st
				l.mu.Unlock()
			}
			l.add("TLSHandshakeDone")
		},
		GotConn: func(httptrace.GotConnInfo) { l.add("GotConn") },
	}
}

// TestDialTrace: an upgrade on a connection of its own reports the lookup,
// the TCP connection, the TLS handshake and the ready connection to the
// httptrace.ClientTrace of Dial's context, in that order, as net/http does.
func TestDialTrace(t *testing.T) {
	for _, secure := range []bool{false, true} {
		name := "ws"
		if secure {
			name = "wss"
		}
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, secure, nil, func(ctx context.Context, t *testing.T, ws *coder.Conn) {
				for {
					if _, _, err := ws.Read(ctx); err != nil {
						return
					}
				}
			})
			// A host name, so that there is a lookup: localhost.
			u := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
			opts := &Options{}
			want := []string{"DNSStart", "ConnectStart", "GotConn"}
			if secure {
				pool := x509.NewCertPool()
				pool.AddCert(srv.Certificate())
				// The test certificate names example.com, not localhost.
				opts.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "example.com"}
				want = []string{"DNSStart", "ConnectStart", "TLSHandshakeStart", "TLSHandshakeDone", "GotConn"}
			}
			var log hookLog
			ctx := httptrace.WithClientTrace(context.Background(), log.trace())
			c, err := Dial(ctx, u, "example.com", opts)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.Close(context.Background())
			log.mu.Lock()
			defer log.mu.Unlock()
			if diff := cmp.Diff(want, log.hooks); diff != "" {
				t.Errorf("hooks (-want +got):\n%s", diff)
			}
			if secure && log.tls.Version == 0 {
				t.Error("TLSHandshakeDone had no connection state")
			}
		})
	}
}
