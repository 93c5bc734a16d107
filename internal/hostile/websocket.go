package hostile

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	coder "github.com/coder/websocket"
)

// ServerOpen is the <open/> the WebSocket servers answer with.
const ServerOpen = "<open xmlns='" + NSFraming + "' from='" + Domain + "' id='hostile' version='1.0' xml:lang='en'/>"

// WebSocketOptions changes how a WebSocketServer behaves before its script
// runs. The zero value is an RFC 7395 endpoint over TLS.
type WebSocketOptions struct {
	// Plain serves ws:// instead of wss://.
	Plain bool
	// Upgrade, when set, sees each handshake request first; when it
	// returns true it has answered the request itself (a refusal, a
	// redirect) and no WebSocket is made.
	Upgrade func(w http.ResponseWriter, r *http.Request) bool
	// NoSubprotocol accepts the upgrade without selecting "xmpp".
	NoSubprotocol bool
	// TLS replaces the CA's server configuration (another certificate).
	TLS *tls.Config
}

// WebSocketServer is an RFC 7395 endpoint on httptest that runs a Script
// on every WebSocket it accepts.
type WebSocketServer struct {
	URL  string // ws:// or wss:// URL of the endpoint
	srv  *httptest.Server
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup
	n    atomic.Int32 // handshake requests seen
}

// NewWebSocket starts a WebSocketServer that presents ca's certificate
// (unless opts.Plain) and runs s on each connection.
func NewWebSocket(ca *CA, opts WebSocketOptions, s Script) *WebSocketServer {
	ws := &WebSocketServer{done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-ws.done; cancel() }()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws.n.Add(1)
		ws.wg.Add(1)
		defer ws.wg.Done()
		if opts.Upgrade != nil && opts.Upgrade(w, r) {
			return
		}
		accept := &coder.AcceptOptions{Subprotocols: []string{"xmpp"}}
		if opts.NoSubprotocol {
			accept.Subprotocols = nil
		}
		c, err := coder.Accept(w, r, accept)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(4 << 20)
		s(ctx, &wsPeer{c: c, query: r.URL.Query()})
	})
	ws.srv = httptest.NewUnstartedServer(h)
	ws.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes the client gives up
	if opts.Plain {
		ws.srv.Start()
	} else {
		ws.srv.TLS = opts.TLS
		if ws.srv.TLS == nil {
			ws.srv.TLS = ca.ServerConfig()
		}
		ws.srv.StartTLS()
	}
	ws.URL = "ws" + strings.TrimPrefix(ws.srv.URL, "http") + "/xmpp-websocket"
	return ws
}

// Handshakes returns the number of handshake requests the server got.
func (s *WebSocketServer) Handshakes() int { return int(s.n.Load()) }

// Close stops the scripts and the server, and waits for them.
func (s *WebSocketServer) Close() {
	s.once.Do(func() {
		close(s.done)
		s.srv.CloseClientConnections()
		s.srv.Close()
		s.wg.Wait()
	})
}

// wsPeer is a Peer over one WebSocket.
type wsPeer struct {
	c     *coder.Conn
	query url.Values
	opens int
}

// WebSocket returns the connection, for scripts that misbehave below XMPP
// (close codes, binary frames).
func (p *wsPeer) WebSocket() *coder.Conn { return p.c }

func (p *wsPeer) Query() url.Values { return p.query }

func (p *wsPeer) Accept(ctx context.Context) (bool, error) {
	for {
		m, err := p.Recv(ctx)
		if err != nil {
			return false, err
		}
		if strings.HasPrefix(m, "<open") {
			p.opens++
			return p.opens > 1, p.Send(ctx, ServerOpen)
		}
	}
}

func (p *wsPeer) Send(ctx context.Context, elem string) error {
	return p.c.Write(ctx, coder.MessageText, []byte(elem))
}

func (p *wsPeer) Recv(ctx context.Context) (string, error) {
	_, b, err := p.c.Read(ctx)
	if err != nil {
		return "", ErrClientClosed
	}
	m := string(b)
	if strings.HasPrefix(m, "<close") {
		_ = p.Send(ctx, "<close xmlns='"+NSFraming+"'/>")
		return "", ErrClientClosed
	}
	return m, nil
}

// WebSocketOf returns the WebSocket under p, or nil when p is not one.
func WebSocketOf(p Peer) *coder.Conn {
	if w, ok := p.(*wsPeer); ok {
		return w.c
	}
	return nil
}
