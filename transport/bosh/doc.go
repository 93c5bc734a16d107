// Package bosh carries one XMPP stream over BOSH (XEP-0124, with the XMPP
// bindings of XEP-0206) on net/http, and hands it to the session layer as a
// transport.Conn: a sequence of complete, self-contained top-level elements.
// It creates the HTTP session, keeps a long-poll open so the server can push,
// batches outgoing elements into as few requests as the server's 'requests'
// limit allows, restarts the stream after SASL with xmpp:restart='true',
// retransmits a failed request with the same rid, and reports what the server
// says when it ends the session (TerminateError, transport.RedirectError). It
// knows nothing of SASL, resource binding, events or reconnection: those
// belong to the session layer, which works the same over WebSocket.
//
// Requests reach the connection manager in rid order, as XEP-0124 lets it
// expect (ejabberd stalls otherwise). Two requests started together travel
// on two connections and may be read in either order, so no request is
// written before the one with the rid just below counts as read: answered,
// or written whole to its connection (as net/http reports through
// net/http/httptrace) 20 ms before. A long-poll written long ago lets the
// next request go at once. After a response with elements, the next empty
// long-poll waits for the reader to take them all (at most 20 ms), so that
// what the reader writes in answer goes first: during a login no two
// requests are ever under way together. A retransmission of a request
// already written goes at once; a request whose try failed before it was
// written holds the higher rids until a try of it is. A request that waits
// for its turn takes what is written meanwhile (its body is made when its
// turn comes), so that the wait is paid once, not per element: an answer to
// a XEP-0198 <r/> and the stanza after it leave together. Each request's
// body is written after its headers, in a second write, for net/http to
// report the request written only once all of it is on the connection.
//
// No request goes out with a rid 'requests' or more above the lowest rid
// whose response has not come, even when fewer requests are in flight: a
// connection manager that takes no acks remembers only that many responses
// for retransmission (XEP-0124 §14.3), and a retransmitted request whose
// answer it forgot loses the elements of that answer. A request whose
// kept-alive connection dies under it goes again at once on a new
// connection, never on another one of the pool, which the same fault may
// have cut: a copy that reaches the server and dies as well can cost the
// answer's elements (ejabberd 23.01 gives them to the dead copy).
//
// Every number the server chooses in its session creation response is
// clamped to a documented range (see Params): wait and hold to what was
// asked, requests to hold+1, polling to a minute, inactivity and maxpause to
// ten minutes. The client asks for a hold of at most 2, so it never has more
// than 3 requests in flight (the terminate request of Close aside); a
// negative or non-numeric value fails Open with a *MalformedError.
//
// The errors that end a session say what they mean for the next one by
// behaviour (transport.Error, transport.HTTPStatuser,
// transport.ServerTexter): an HTTP 5xx, a network fault, a timeout and the
// terminate conditions of a server going away are transient; an HTTP 4xx, a
// malformed answer, a broken bound, a certificate that failed verification
// and the terminate conditions of a client error are final. A certificate
// that failed verification is not retried within the session either: the
// request is sent once.
//
// Dial does no network I/O; Open sends the session creation request:
//
//	c, err := bosh.Dial(ctx, "https://meet.example.com/http-bind", "meet.example.com", nil)
//	if err != nil {
//		return err
//	}
//	defer c.Close(context.Background())
//	hdr, err := c.Open(ctx, false) // hdr.ID is the BOSH sid
//	if err != nil {
//		return err
//	}
//	features, err := c.ReadElement(ctx) // <stream:features/>
package bosh
