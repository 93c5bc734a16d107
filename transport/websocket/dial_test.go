package websocket

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	coder "github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/transport"
)

func TestDialHTTPRedirect(t *testing.T) {
	tests := []struct {
		name     string
		tls      bool
		location string
		status   int
		want     string // Target; "BASE" stands for the server's host
	}{
		{"302 relative", false, "/other-websocket?x=1", http.StatusFound, "ws://BASE/other-websocket?x=1"},
		{"301 absolute", false, "wss://other.example.com/xmpp", http.StatusMovedPermanently, "wss://other.example.com/xmpp"},
		{"307 https location", true, "https://other.example.com/xmpp", http.StatusTemporaryRedirect, "https://other.example.com/xmpp"},
		{"302 downgrade is reported", true, "ws://plain.example.com/xmpp", http.StatusFound, "ws://plain.example.com/xmpp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", tt.location)
				w.WriteHeader(tt.status)
			})
			srv := httptest.NewServer(h)
			scheme := "ws"
			if tt.tls {
				srv.Close()
				srv = httptest.NewTLSServer(h)
				scheme = "wss"
			}
			defer srv.Close()
			host := strings.TrimPrefix(strings.TrimPrefix(srv.URL, "http://"), "https://")
			_, err := Dial(context.Background(), scheme+"://"+host+"/xmpp-websocket", "example.com", &Options{HTTPClient: srv.Client()})
			want := &transport.RedirectError{Kind: transport.RedirectHTTP, Target: strings.ReplaceAll(tt.want, "BASE", host), Status: tt.status}
			var re *transport.RedirectError
			if !errors.As(err, &re) {
				t.Fatalf("Dial = %v, want *transport.RedirectError", err)
			}
			if diff := cmp.Diff(want, re); diff != "" {
				t.Errorf("RedirectError (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDialRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Jitsi-Shard", "shard-1")
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	_, err := Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws?token=SECRET", "example.com", &Options{HTTPClient: srv.Client()})
	var he *HandshakeError
	if !errors.As(err, &he) || he.Status != http.StatusServiceUnavailable || he.Header.Get("X-Jitsi-Shard") != "shard-1" {
		t.Fatalf("Dial = %v, want *HandshakeError 503 with headers", err)
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error %q holds the token", err)
	}
}

func TestDialErrors(t *testing.T) {
	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()

	tests := []struct {
		name, url, domain string
	}{
		{"connection refused, token redacted", "ws://" + closed + "/xmpp-websocket?token=SECRET&room=a", "example.com"},
		{"password redacted", "ws://user:SECRET@" + closed + "/xmpp-websocket", "example.com"},
		{"bad scheme", "ftp://example.com/x?token=SECRET", "example.com"},
		{"empty domain", "ws://" + closed + "/", ""},
		{"unparsable", "ws://[::1/%zz?token=SECRET", "example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Dial(context.Background(), tt.url, tt.domain, nil)
			if err == nil {
				c.Close(context.Background())
				t.Fatal("Dial succeeded")
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error %q holds a secret", err)
			}
			if !strings.HasPrefix(err.Error(), "websocket: dial") {
				t.Errorf("error %q does not name the operation", err)
			}
		})
	}
	var de *DialError
	_, err = Dial(context.Background(), "ws://"+closed+"/x?token=SECRET", "example.com", nil)
	if !errors.As(err, &de) || !strings.Contains(de.URL, "token=REDACTED") {
		t.Errorf("Dial = %v, want *DialError with token=REDACTED", err)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) {
		t.Errorf("Dial = %v, want the *net.OpError wrapped", err)
	}
}

func TestDialHeadersAndContext(t *testing.T) {
	got := make(chan http.Header, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
		ws, err := coder.Accept(w, r, &coder.AcceptOptions{Subprotocols: []string{"xmpp"}, OriginPatterns: []string{"meet.example.com"}})
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ctx := r.Context()
		if _, _, err := ws.Read(ctx); err == nil {
			ws.Write(ctx, coder.MessageText, []byte(serverOpen))
		}
		drainUntilClosed(ctx, ws)
	}))
	defer srv.Close()

	// The ctx of Dial bounds the handshake only.
	ctx, cancel := context.WithCancel(context.Background())
	c, err := Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), "example.com", &Options{
		HTTPClient: srv.Client(),
		Header:     http.Header{"X-Test": {"1"}},
		Origin:     "https://meet.example.com",
	})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	h := <-got
	if h.Get("X-Test") != "1" || h.Get("Origin") != "https://meet.example.com" || h.Get("Sec-WebSocket-Protocol") != "xmpp" {
		t.Errorf("upgrade request headers = %v", h)
	}
	if _, err := c.Open(context.Background(), false); err != nil {
		t.Fatalf("Open after the Dial ctx ended: %v", err)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
