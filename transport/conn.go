package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
)

// Conn is one framed XMPP stream over some transport.
//
// ReadElement must not be called concurrently with itself, nor WriteElement
// with itself; one reader and one writer may run at the same time. Close may be
// called at any time, from any goroutine, and more than once.
type Conn interface {
	// Open opens the XML stream to the domain the Conn was dialled for, or
	// restarts it (restart is true after SASL succeeded), and returns the stream
	// header the server answered with. The next element read is normally the
	// server's <stream:features/>.
	Open(ctx context.Context, restart bool) (Header, error)

	// ReadElement returns the next complete top-level element sent by the
	// server, serialized with all the namespaces it uses declared on it
	// (stanzas carry xmlns='jabber:client'). The caller owns the returned
	// slice. It returns ErrStreamClosed once the server closed the stream
	// cleanly, a *RedirectError when the server moved the client elsewhere,
	// and another error when the transport itself failed.
	ReadElement(ctx context.Context) ([]byte, error)

	// WriteElement sends one complete, self-contained top-level element. A
	// transport may batch elements (BOSH does); a nil error means the element
	// was accepted for sending in order, not that the server received it.
	WriteElement(ctx context.Context, elem []byte) error

	// Close ends the stream politely (the RFC 7395 <close/>, or a BOSH
	// terminate) and releases the transport's resources. It is bounded by ctx
	// and never hangs on an unresponsive server. A ReadElement blocked at that
	// time returns an error.
	Close(ctx context.Context) error

	// Abort releases the transport at once without ending the stream: no
	// <close/>, no terminate, no handshake. The server sees the connection
	// go as in a network fault, so it keeps a XEP-0198 session for
	// resumption, which a polite Close would end. A ReadElement blocked at
	// that time returns an error. It may be called more than once, and
	// after or during Close.
	Abort()

	// ConnectionState returns the TLS state of the underlying connection and
	// true, or false when the transport is not protected by TLS. SASL
	// channel binding (SCRAM-*-PLUS) uses it.
	ConnectionState() (tls.ConnectionState, bool)

	// Status reports what the transport last saw of its HTTP exchanges and
	// WebSocket close frames; the session layer copies it into event details.
	Status() Status
}

// ReadNotifier is implemented by a Conn whose elements arrive on goroutines
// of its own (BOSH's requests). NotifyReadable arranges for f to run once,
// as soon as ReadElement would return without blocking: an element is
// waiting, or the stream has ended or been closed. f runs at once when that
// is already so, else on the goroutine that made it so, possibly with the
// Conn's lock held: it must return quickly and must not call the Conn.
//
// A reader that waits this way keeps no goroutine of its own while the
// stream is idle.
type ReadNotifier interface {
	NotifyReadable(f func())
}

// Negotiator is implemented by a Conn that paces itself differently once the
// stream is negotiated. Negotiated tells it that the session is live: BOSH
// then sends its next long-poll as soon as a response came (XEP-0124 §10),
// so that the server always holds a request to push on (Prosody drops a
// stream error it has no held request for); during negotiation the
// long-poll waits for the reader's answer, which keeps two requests from
// reaching the server together.
type Negotiator interface {
	Negotiated()
}

// Header holds the attributes of a stream header sent by the server.
type Header struct {
	ID      string // stream id (for BOSH, the sid)
	From    string // the server's domain
	To      string
	Version string
	Lang    string
}

// Status is what a transport last saw at the HTTP and WebSocket level.
type Status struct {
	// HTTPStatus is the status code of the last HTTP response (the WebSocket
	// upgrade, or the last BOSH response); 0 when none was received.
	HTTPStatus int
	// Header holds the headers of the last HTTP response (a copy).
	Header http.Header
	// WSCloseCode is the WebSocket close code received from the server, or
	// 1006 when the connection was lost without a close frame; 0 when the
	// connection is open or the transport is not a WebSocket.
	WSCloseCode int
}

// ErrStreamClosed is returned by ReadElement once the server closed the XML
// stream (RFC 7395 <close/> without see-other-uri, </stream:stream>, or a BOSH
// terminate without an error condition).
var ErrStreamClosed = errors.New("transport: stream closed by server")

// ErrClosed is returned by calls on a Conn after Close.
var ErrClosed = errors.New("transport: use of closed connection")

// Redirect kinds, as reported in RedirectError.Kind and in the
// connection.redirected event.
const (
	RedirectSeeOtherHost = "see-other-host"
	RedirectSeeOtherURI  = "see-other-uri"
	RedirectHTTP         = "http"
)

// RedirectError reports that the server sent the client to another endpoint:
// an RFC 7395 <close see-other-uri='…'/>, a BOSH terminate with
// condition='see-other-uri', or an HTTP 3xx on the endpoint. The transport does
// not follow it; the session layer decides by its redirect policy.
type RedirectError struct {
	Kind   string // RedirectSeeOtherURI, RedirectHTTP or RedirectSeeOtherHost
	Target string // the new URI (or host)
	Status int    // the HTTP status for RedirectHTTP
}

func (e *RedirectError) Error() string {
	return "transport: redirected (" + e.Kind + ") to " + e.Target
}

// LimitError reports server input that broke a bound (element size or nesting
// depth). The attempt that read it cannot continue.
type LimitError struct {
	What  string // "element size" or "nesting depth"
	Limit int
}

func (e *LimitError) Error() string {
	return "transport: server input exceeds " + e.What + " limit"
}

// Limits bounds what a transport accepts from the server. The zero value
// means the defaults.
type Limits struct {
	MaxElementSize int // bytes in one top-level element (or BOSH body); default 1 MiB
	MaxDepth       int // nesting depth inside one element; default 64
}

// Default limits.
const (
	DefaultMaxElementSize = 1 << 20
	DefaultMaxDepth       = 64
)

// WithDefaults returns l with zero fields set to their defaults.
func (l Limits) WithDefaults() Limits {
	if l.MaxElementSize <= 0 {
		l.MaxElementSize = DefaultMaxElementSize
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	return l
}
