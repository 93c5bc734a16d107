package websocket

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"

	coder "github.com/coder/websocket"

	"github.com/xmppconn/xmppconn/internal/xmlframe"
	"github.com/xmppconn/xmppconn/transport"
)

// stanzaNS is the namespace given to elements that declare none.
const stanzaNS = "jabber:client"

// Conn is one XMPP stream over a WebSocket; it implements transport.Conn.
//
// As coder/websocket does, a Conn treats the end of a ctx passed to Open,
// ReadElement or WriteElement during the call as fatal: the connection is
// closed under it. Use a long-lived ctx for reads and Close to end them.
type Conn struct {
	ws     *coder.Conn
	raw    *rawConn // the upgraded connection, nil if it could not be kept
	domain string
	from   string // the from of <open/>, if any
	limits transport.Limits
	redact transport.Redactor // secrets out of the server's text in errors

	tlsState   *tls.ConnectionState
	httpStatus int
	header     http.Header

	mu         sync.Mutex
	opened     bool          // our <open/> was sent
	closeSent  bool          // our <close/> was sent (or is being sent)
	closing    bool          // Close was called
	reading    bool          // a read (Open, ReadElement, or Close draining) is in progress
	readDone   chan struct{} // closed when the current read ends
	readErr    error         // sticky: why reading is over
	ended      chan struct{} // closed when readErr is set
	closeCode  int           // Status().WSCloseCode
	pingFailed bool          // the pinger cut the connection
	killed     bool          // the connection was cut under coder

	closed chan struct{} // closed when the first Close returns

	wsOnce sync.Once
	wsDone chan struct{} // closed when the WebSocket is closed

	pingOnce   sync.Once
	pingCancel context.CancelFunc // nil without pings
	pingDone   chan struct{}
}

var _ transport.Conn = (*Conn)(nil)

func newConn(ws *coder.Conn, raw *rawConn, domain, from string, limits transport.Limits, resp *http.Response) *Conn {
	return &Conn{
		ws:         ws,
		raw:        raw,
		domain:     domain,
		from:       from,
		limits:     limits,
		tlsState:   resp.TLS,
		httpStatus: resp.StatusCode,
		header:     afterUpgrade(resp.Header),
		ended:      make(chan struct{}),
		closed:     make(chan struct{}),
		wsDone:     make(chan struct{}),
	}
}

// handshakeHeaders are the headers of the WebSocket handshake (RFC 6455
// §4.2.2), which mean nothing once the connection is upgraded.
var handshakeHeaders = []string{"Upgrade", "Connection", "Sec-Websocket-Accept", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions", "Sec-Websocket-Version"}

// afterUpgrade returns the headers of an upgrade response without those of
// the handshake, or nil when nothing else is left: a session keeps them as
// long as it lives (Status), and most servers send nothing else.
func afterUpgrade(h http.Header) http.Header {
	n := len(h)
	for _, k := range handshakeHeaders {
		if _, ok := h[k]; ok {
			n--
		}
	}
	if n == 0 {
		return nil
	}
	out := make(http.Header, n)
	for k, v := range h {
		if !slices.Contains(handshakeHeaders, k) {
			out[k] = slices.Clone(v)
		}
	}
	return out
}

// Open sends <open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='DOMAIN'
// version='1.0'/>, with from='Options.From' when set (the same for a
// restart, RFC 7395 §3.5), reads the server's <open/> and returns its
// attributes.
//
// A <close/> instead gives a *transport.RedirectError (Kind
// transport.RedirectSeeOtherURI) when it has a see-other-uri, else
// transport.ErrStreamClosed; any other element gives an
// *UnexpectedElementError holding it (a <stream:error/>, for the session
// layer to parse). Open reads from the connection: it must not run at the
// same time as ReadElement.
func (c *Conn) Open(ctx context.Context, restart bool) (transport.Header, error) {
	if err := c.beginRead(); err != nil {
		return transport.Header{}, err
	}
	defer c.endRead()

	c.mu.Lock()
	if c.closeSent {
		c.mu.Unlock()
		return transport.Header{}, transport.ErrClosed
	}
	c.opened = true
	c.mu.Unlock()
	if err := c.ws.Write(ctx, coder.MessageText, openElement(c.domain, c.from)); err != nil {
		return transport.Header{}, c.writeFailed(ctx, "open", err)
	}

	f, err := c.readFrame(ctx)
	if err != nil {
		return transport.Header{}, err
	}
	switch f.kind {
	case kindOpen:
		return f.header, nil
	case kindClose:
		return transport.Header{}, c.serverClosed(ctx, f)
	default:
		return transport.Header{}, &UnexpectedElementError{Elem: f.elem}
	}
}

// ReadElement returns the next element from the server: one WebSocket text
// message, checked against the Limits and given xmlns='jabber:client' when
// its root declares no namespace (and xmlns:stream when it is a
// <stream:error> that uses the stream prefix without declaring it, as
// Prosody 13.0.1 sends it). The caller owns the slice.
//
// The server's <close/> gives transport.ErrStreamClosed, or a
// *transport.RedirectError with see-other-uri; ReadElement then answers with
// our <close/> if we had not sent one and closes the WebSocket. A binary,
// oversized (*transport.LimitError) or malformed message gives an error and
// ends the connection, as does a connection lost (*CloseError, Code 1006) or
// closed by the server without <close/> (*CloseError with its code). After
// Close, or during it, ReadElement returns transport.ErrClosed. Every error
// is final: later calls return it again.
func (c *Conn) ReadElement(ctx context.Context) ([]byte, error) {
	if err := c.beginRead(); err != nil {
		return nil, err
	}
	defer c.endRead()
	f, err := c.readFrame(ctx)
	if err != nil {
		return nil, err
	}
	switch f.kind {
	case kindClose:
		return nil, c.serverClosed(ctx, f)
	case kindOpen:
		return nil, c.fatal(ctx, &ProtocolError{Msg: "unexpected <open/> after the stream was opened"}, coder.StatusProtocolError)
	}
	return f.elem, nil
}

// WriteElement sends elem, one complete top-level element, as one WebSocket
// text message. It returns transport.ErrClosed once Close was called or the
// stream was closed.
func (c *Conn) WriteElement(ctx context.Context, elem []byte) error {
	if len(elem) == 0 {
		return errors.New("websocket: write: empty element")
	}
	c.mu.Lock()
	stop := c.closing || c.closeSent
	c.mu.Unlock()
	if stop {
		return transport.ErrClosed
	}
	if err := c.ws.Write(ctx, coder.MessageText, elem); err != nil {
		return c.writeFailed(ctx, "write", err)
	}
	return nil
}

// ConnectionState returns the TLS state of the upgrade connection and true
// for wss, or false for ws.
func (c *Conn) ConnectionState() (tls.ConnectionState, bool) {
	if c.tlsState == nil {
		return tls.ConnectionState{}, false
	}
	return *c.tlsState, true
}

// Status returns the upgrade's HTTP status (101) and headers (without
// those of the WebSocket handshake itself), and the close
// code of the WebSocket once it ended (1006 when it was lost without a close
// frame).
func (c *Conn) Status() transport.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return transport.Status{
		HTTPStatus:  c.httpStatus,
		Header:      c.header.Clone(),
		WSCloseCode: c.closeCode,
	}
}

// beginRead marks a read in progress, or says why none may start.
func (c *Conn) beginRead() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.readErr != nil:
		return c.readErr
	case c.closing:
		return transport.ErrClosed
	case c.reading:
		return errors.New("websocket: concurrent reads")
	}
	c.reading = true
	c.readDone = make(chan struct{})
	return nil
}

func (c *Conn) endRead() {
	c.mu.Lock()
	c.reading = false
	close(c.readDone)
	c.mu.Unlock()
}

// setReadErr makes err the final result of reads, once.
func (c *Conn) setReadErr(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.readErr == nil {
		c.readErr = err
		close(c.ended)
	}
}

// readFrame reads and checks one message. Errors are final (fatal).
func (c *Conn) readFrame(ctx context.Context) (frame, error) {
	typ, msg, err := c.ws.Read(ctx)
	if err != nil {
		return frame{}, c.readFailed(ctx, err)
	}
	if typ != coder.MessageText {
		return frame{}, c.fatal(ctx, &ProtocolError{Msg: "binary message"}, coder.StatusUnsupportedData)
	}
	msg, err = checkMessage(msg, c.limits)
	if err != nil {
		var le *transport.LimitError
		if errors.As(err, &le) {
			return frame{}, c.fatal(ctx, err, coder.StatusMessageTooBig)
		}
		return frame{}, c.fatal(ctx, err, coder.StatusProtocolError)
	}
	return classify(msg), nil
}

// checkMessage checks one text message from the server and returns it as
// the element to hand on: trimmed, with xmlns='jabber:client' when its root
// declares no namespace. A broken bound gives a *transport.LimitError,
// anything else a *ProtocolError.
//
// A <stream:error> whose stream prefix is undeclared, as Prosody 13.0.1's
// mod_websocket sends it, is read in the streams namespace, with the
// declaration added (xmlframe.CheckLenient); an undeclared prefix anywhere
// else is malformed.
func checkMessage(msg []byte, l transport.Limits) ([]byte, error) {
	msg, err := xmlframe.CheckLenient(msg, l)
	if err != nil {
		var le *transport.LimitError
		if errors.As(err, &le) {
			return nil, err
		}
		return nil, &ProtocolError{Msg: "malformed element", Err: err}
	}
	return xmlframe.EnsureNamespace(trimSpace(msg), stanzaNS), nil
}

// readFailed records why coder's Read failed and returns the final error.
func (c *Conn) readFailed(ctx context.Context, err error) error {
	code := int(coder.CloseStatus(err))
	var ce coder.CloseError
	errors.As(err, &ce)

	c.mu.Lock()
	closing, pingFailed := c.closing, c.pingFailed
	switch {
	case errors.Is(err, coder.ErrMessageTooBig):
		code = int(coder.StatusMessageTooBig) // coder sent it, and cut the connection
	case code == -1 && ctx.Err() == nil && !closing:
		code = int(coder.StatusAbnormalClosure)
	}
	if code > 0 && c.closeCode == 0 {
		c.closeCode = code
	}
	c.mu.Unlock()

	var out error
	switch {
	case closing:
		out = transport.ErrClosed
	case ctx.Err() != nil:
		out = fmt.Errorf("websocket: read: %w", ctx.Err())
	case errors.Is(err, coder.ErrMessageTooBig):
		out = &transport.LimitError{What: "element size", Limit: c.limits.MaxElementSize}
	case pingFailed:
		out = &CloseError{Code: code, Err: errors.New("no pong within the ping interval")}
	default:
		out = &CloseError{Code: code, Reason: c.redact.Text(ce.Reason), Err: c.redact.Error(err)}
	}
	c.setReadErr(out)
	c.stopPing()
	c.kill()
	return out
}

// writeFailed returns the error of a failed write; coder has closed the
// connection under it.
func (c *Conn) writeFailed(ctx context.Context, op string, err error) error {
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if closing {
		return transport.ErrClosed
	}
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	return fmt.Errorf("websocket: %s: %w", op, err)
}

// fatal ends the connection for err, closing the WebSocket with code.
func (c *Conn) fatal(ctx context.Context, err error, code coder.StatusCode) error {
	c.setReadErr(err)
	c.stopPing()
	c.closeWS(ctx, code)
	return err
}

// serverClosed handles the server's <close/>: it answers with ours unless
// already sent, and closes the WebSocket (unless Close is doing it).
func (c *Conn) serverClosed(ctx context.Context, f frame) error {
	var err error = transport.ErrStreamClosed
	if f.seeOtherURI != "" {
		err = &transport.RedirectError{Kind: transport.RedirectSeeOtherURI, Target: c.redact.Text(f.seeOtherURI)}
	}
	c.setReadErr(err)

	c.mu.Lock()
	closing := c.closing
	send := !c.closeSent && !closing
	c.closeSent = true
	c.mu.Unlock()
	if closing {
		return err
	}
	c.stopPing()
	bound, cancel := context.WithTimeout(ctx, closeWait)
	defer cancel()
	if send {
		_ = c.ws.Write(bound, coder.MessageText, closeElement)
	}
	c.closeWS(bound, coder.StatusNormalClosure)
	return err
}

// trimSpace removes leading and trailing XML whitespace.
func trimSpace(b []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}
