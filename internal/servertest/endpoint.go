package servertest

import "net/url"

// Endpoint is one way a client reaches a server of the matrix: WebSocket
// (RFC 7395) or BOSH (XEP-0206), over TLS or not. Every kind serves the same
// four, at the same paths, so a test table over Endpoints runs unchanged on
// each server.
type Endpoint struct {
	Name   string // "ws", "wss", "bosh-http" or "bosh-https": a subtest name
	BOSH   bool   // BOSH rather than WebSocket
	Secure bool   // over TLS (the server's HTTPS port)
}

// The endpoints of every server.
var (
	WS        = Endpoint{Name: "ws"}
	WSS       = Endpoint{Name: "wss", Secure: true}
	BOSHHTTP  = Endpoint{Name: "bosh-http", BOSH: true}
	BOSHHTTPS = Endpoint{Name: "bosh-https", BOSH: true, Secure: true}
)

// Endpoints lists every endpoint, WebSocket first.
var Endpoints = []Endpoint{WS, WSS, BOSHHTTP, BOSHHTTPS}

// URL returns the endpoint's URL on s.
func (e Endpoint) URL(s *Server) string {
	if e.BOSH {
		return s.BOSHURL(e.Secure)
	}
	return s.WebSocketURL(e.Secure)
}

// Via returns the endpoint's URL with its host and port replaced by
// hostport: the same path reached through a proxy in front of the server's
// HTTP port (internal/faultproxy), or its HTTPS port when Secure.
func (e Endpoint) Via(s *Server, hostport string) string {
	u, err := url.Parse(e.URL(s))
	if err != nil {
		panic("servertest: endpoint URL: " + err.Error()) // the URLs above always parse
	}
	u.Host = hostport
	return u.String()
}

// Transport returns "bosh" or "websocket", as SessionInfo.Transport names
// the transport of a session.
func (e Endpoint) Transport() string {
	if e.BOSH {
		return "bosh"
	}
	return "websocket"
}
