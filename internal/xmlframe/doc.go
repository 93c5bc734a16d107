// Package xmlframe cuts and checks XML at element boundaries for the
// transports and the session layer: a Splitter turns what an encoding/xml
// Encoder writes (arbitrary chunks) into complete top-level elements, Check
// verifies that server input is one well-formed element within
// transport.Limits (CheckLenient also reads a stream error whose stream
// prefix a known server bug left undeclared), AppendElement and
// AppendElementLimit serialize a decoded element as self-contained XML with
// every namespace declared on it, and EnsureNamespace gives a bare root
// element a default namespace. Every check takes time linear in its input.
// It is not an XML parser or an XMPP library: it knows nothing of stanzas or
// transports beyond the limits it enforces, and of streams only the stream
// prefix; it is internal because its API may change.
//
// A Splitter in front of a WebSocket:
//
//	var s xmlframe.Splitter
//	err := s.Write(chunk, func(elem []byte) error {
//		return conn.WriteElement(ctx, elem) // elem is valid only during the call
//	})
//
// Checking an element read from the server:
//
//	if err := xmlframe.Check(msg, transport.Limits{}); err != nil {
//		return err // *transport.LimitError or *xmlframe.SyntaxError
//	}
package xmlframe
