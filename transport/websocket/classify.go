package websocket

import "github.com/xmppconn/xmppconn/transport"

// What the errors of this package tell the session layer (transport.Error):
// a connection lost without the RFC 7395 <close/> and a 5xx on the upgrade
// may heal; a refused upgrade (4xx, or any other status) and a server that
// breaks the protocol will fail the same way again. A DialError says
// nothing of its own: the error it wraps does (a network error, a
// certificate that failed verification).
var (
	_ transport.Error        = (*CloseError)(nil)
	_ transport.Error        = (*HandshakeError)(nil)
	_ transport.HTTPStatuser = (*HandshakeError)(nil)
	_ transport.Error        = (*ProtocolError)(nil)
	_ transport.ServerTexter = (*CloseError)(nil)
)

// Transient reports true: the connection was lost, a new one may work.
func (e *CloseError) Transient() bool { return true }

// Condition returns "": a close frame names no XMPP condition.
func (e *CloseError) Condition() string { return "" }

// ServerText returns the reason of the server's close frame, if any.
func (e *CloseError) ServerText() string { return e.Reason }

// Transient reports whether the refusal was a server error (5xx), which
// may heal.
func (e *HandshakeError) Transient() bool { return e.Status >= 500 }

// Condition returns "": an HTTP refusal names no XMPP condition.
func (e *HandshakeError) Condition() string { return "" }

// HTTPStatus returns the status the upgrade was refused with.
func (e *HandshakeError) HTTPStatus() int { return e.Status }

// Transient reports false: a server that breaks RFC 7395 does it again.
func (e *ProtocolError) Transient() bool { return false }

// Condition returns "".
func (e *ProtocolError) Condition() string { return "" }
