package websocket

import (
	"net/http"
	"strconv"
)

// ProtocolError reports a server that does not follow RFC 7395: it did not
// select the "xmpp" subprotocol, sent a binary message, a malformed element or
// a malformed framing element. The connection cannot be used further.
type ProtocolError struct {
	Msg string // what the server did wrong, e.g. "binary message"
	Err error  // the underlying error (such as an XML syntax error), if any
}

func (e *ProtocolError) Error() string {
	s := "websocket: protocol error: " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *ProtocolError) Unwrap() error { return e.Err }

// UnexpectedElementError is returned by Open when the server answers the
// <open/> with another element than <open/> or <close/>, typically a
// <stream:error/>. Elem holds that element, namespace-complete, for the
// session layer to parse.
type UnexpectedElementError struct {
	Elem []byte
}

func (e *UnexpectedElementError) Error() string {
	return "websocket: open: server sent <" + rootName(e.Elem) + "/> instead of <open/>"
}

// HandshakeError reports a WebSocket upgrade refused with an HTTP status
// other than 101 and other than a redirect (which is a
// *transport.RedirectError).
type HandshakeError struct {
	Status int         // the HTTP status code
	Header http.Header // the response headers
	Err    error       // what coder/websocket reported
}

func (e *HandshakeError) Error() string {
	return "websocket: dial: upgrade refused with HTTP status " + strconv.Itoa(e.Status)
}

// Unwrap returns the underlying error.
func (e *HandshakeError) Unwrap() error { return e.Err }

// DialError reports a WebSocket upgrade that could not be made (DNS, TCP,
// TLS, or a broken handshake). URL is the endpoint with any token redacted.
type DialError struct {
	URL string
	Err error
}

func (e *DialError) Error() string {
	return "websocket: dial " + e.URL + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *DialError) Unwrap() error { return e.Err }

// CloseError reports a WebSocket connection that ended without the RFC 7395
// <close/> exchange. Code is the close code of the server's close frame, or
// 1006 when the connection was lost without one (also recorded in
// Status().WSCloseCode).
type CloseError struct {
	Code   int
	Reason string // the reason of the close frame, if any
	Err    error
}

func (e *CloseError) Error() string {
	s := "websocket: read: connection closed with code " + strconv.Itoa(e.Code)
	if e.Reason != "" {
		s += " (" + strconv.Quote(e.Reason) + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *CloseError) Unwrap() error { return e.Err }
