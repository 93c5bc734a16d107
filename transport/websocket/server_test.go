package websocket

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	coder "github.com/coder/websocket"
)

// Server-side framing used by the test servers.
const (
	serverOpen  = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' id='s1' version='1.0' xml:lang='en'/>"
	serverClose = "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>"
	clientOpen  = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>"
	clientClose = "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>"
)

// testServer is an httptest server whose handler speaks WebSocket with
// coder/websocket's Accept and runs script on each connection. Scripts end
// when the connection or ctx (cancelled at cleanup) ends; cleanup waits for
// them, so no goroutine outlives the test.
type testServer struct {
	*httptest.Server
	URL string // the ws:// or wss:// URL
}

type script func(ctx context.Context, t *testing.T, ws *coder.Conn)

func newServer(t *testing.T, tlsOn bool, accept *coder.AcceptOptions, s script) *testServer {
	t.Helper()
	if accept == nil {
		accept = &coder.AcceptOptions{Subprotocols: []string{"xmpp"}}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		ws, err := coder.Accept(w, r, accept)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		s(ctx, t, ws)
	})
	var srv *httptest.Server
	if tlsOn {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		srv.Close()
	})
	u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/xmpp-websocket"
	return &testServer{Server: srv, URL: u}
}

// dial dials s for example.com with its client.
func (s *testServer) dial(t *testing.T, opts *Options) *Conn {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	if opts.HTTPClient == nil && opts.TLSConfig == nil {
		opts.HTTPClient = s.Client()
	}
	c, err := Dial(context.Background(), s.URL, "example.com", opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// read reads one text message, or returns "" when the connection ended.
func read(ctx context.Context, ws *coder.Conn) string {
	_, b, err := ws.Read(ctx)
	if err != nil {
		return ""
	}
	return string(b)
}

func write(ctx context.Context, ws *coder.Conn, s string) {
	_ = ws.Write(ctx, coder.MessageText, []byte(s))
}

// opened answers the client's <open/> and reports whether it came.
func opened(ctx context.Context, t *testing.T, ws *coder.Conn) bool {
	if got := read(ctx, ws); got != clientOpen {
		t.Errorf("server got %q, want the client's <open/>", got)
		return false
	}
	write(ctx, ws, serverOpen)
	return true
}

// drainUntilClosed reads until the connection ends, answering the client's
// <close/> with the server's, and returns the messages and the close code
// (-1 when there was no close frame).
func drainUntilClosed(ctx context.Context, ws *coder.Conn) ([]string, int) {
	var msgs []string
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return msgs, int(coder.CloseStatus(err))
		}
		msgs = append(msgs, string(b))
		if string(b) == clientClose {
			write(ctx, ws, serverClose)
		}
	}
}
