// Package transport defines the framed XML stream that every XMPP transport
// hands to the session layer, and the errors they share.
//
// A transport (see the websocket and bosh sub-packages) turns its wire format
// into a sequence of complete, self-contained top-level XML elements: each
// element read or written is one stanza or one stream-level element, with every
// namespace it uses declared on it. Stream negotiation, SASL, resource binding
// and stream management are written once, against Conn, and work unchanged over
// every transport.
//
// A transport knows nothing of events, states or reconnection; it reports what
// happened on the wire as errors (RedirectError, ErrStreamClosed) and as a
// Status that the session layer turns into connection events.
package transport
