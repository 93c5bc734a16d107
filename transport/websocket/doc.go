// Package websocket speaks XMPP over WebSocket (RFC 7395) with
// github.com/coder/websocket and hands the session layer a transport.Conn: the
// "xmpp" subprotocol, the <open/> and <close/> framing elements, and exactly
// one complete, namespace-complete element per text message. It reports what
// the wire says — a <close see-other-uri='…'/> or an HTTP 3xx on the upgrade as
// *transport.RedirectError, the upgrade status and the close code in Status —
// and decides nothing: it follows no redirect, knows nothing of SASL, events,
// keepalive policy or reconnection. Limits bound what the server may send.
//
//	c, err := websocket.Dial(ctx, "wss://example.com/xmpp-websocket", "example.com", nil)
//	if err != nil {
//		return err // *transport.RedirectError, *websocket.HandshakeError, ...
//	}
//	defer c.Close(context.Background())
//	hdr, err := c.Open(ctx, false) // <open/> sent, the server's <open/> read
//	features, err := c.ReadElement(ctx)
package websocket
