package bosh

import (
	"context"
	"io"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"
)

// Requests reach the connection manager in rid order.
//
// XEP-0124 §14 lets a connection manager rely on it, and some do: ejabberd
// queues a request that comes before the one with the rid just below it,
// and when that one then comes and has nothing to answer yet (an empty
// long-poll, or a stanza nobody answers), it holds it without taking the
// queued one up, until its wait ends. Each request travels on its own HTTP
// exchange, often on its own connection, so two requests started together
// can arrive in either order: even written to the wire in rid order, they
// are read from two connections, by two of the server's processes.
//
// Two rules keep them apart:
//
//   - No try of a request starts (takes a connection, writes a byte) before
//     the request with the rid just below counts as read by the connection
//     manager: it was answered, or the request below it got an early, empty
//     answer once it had started (releasedBy), or it was written whole to
//     its connection readGrace ago (by then the server has read what
//     reached it whole on loopback or a LAN many times over). By induction every lower rid
//     counts as read by then. A request written long ago (the long-poll the
//     server holds) lets the next one go at once; only a request that
//     follows a fresh one within readGrace waits, for the rest of it.
//   - During negotiation an empty poll waits for the reader (schedule.go):
//     after a response with elements, the next long-poll starts once the
//     reader has taken them all and is waiting for more, or pollGrace after
//     they came. What the reader writes in answer (the next step of a
//     login) then goes first, as the request that holds the session open,
//     instead of following a poll that just left: during a login no two
//     requests are ever under way together, and no step waits readGrace.
//     Once the session is live (Negotiated) the long-poll goes out as soon
//     as a response came, as XEP-0124 §10 asks: a server must hold a
//     request to push on (Prosody drops a stream error when it holds
//     none), and an answer that follows the fresh poll waits the rest of
//     readGrace.
//
// Written is what httptrace's WroteRequest reports without an error, once
// every byte has been handed to the connection (see wireBody), or an answer
// to a try:
//
//   - A retransmission of a request written once needs no turn: the server
//     has seen that rid (or will report its loss), and the higher rids are
//     out already. A request whose try failed before it was written (a dial
//     error, a refused connection) has not been written: the requests above
//     it keep waiting, through its backoff, until a try of it is. It never
//     waits itself, since the request below it counted as read before its
//     first try started.
//   - A try that fails writing on a kept-alive connection the server has
//     just closed is not written: net/http sends it again on a new
//     connection, or exchange does, at once (retryAtOnce), the requests
//     above it waiting meanwhile. When the writing succeeded and the server
//     closed the connection without reading it, net/http sends it again
//     too, but it has already reported it written; the next rid can then
//     reach the server first. Nothing on the client can see it; the
//     connection manager answers the repeat, or stalls until the request
//     timeout and the retransmission.
//   - An http.RoundTripper that does not report to httptrace (no GotConn on
//     a try that got an answer), such as a test double, cannot tell when it
//     has written: from then on a request counts as written when its try
//     starts.
//
// The wait is bounded by the session: a request that is never written fails
// after its tries, which ends the session and cancels every wait.

// readGrace is how long after a request was written whole it counts as read
// by the connection manager, when no answer told so sooner (releasedBy).
const readGrace = 20 * time.Millisecond

// testReadGrace, when set (in nanoseconds), replaces readGrace: the tests
// set it while requests run, hence the atomic.
var testReadGrace atomic.Int64

// currentReadGrace returns readGrace, or what a test set instead.
func currentReadGrace() time.Duration {
	if d := testReadGrace.Load(); d > 0 {
		return time.Duration(d)
	}
	return readGrace
}

// writeOrder is the part of a request that keeps the rid order.
type writeOrder struct {
	// after is closed once the request with the rid just below counts as
	// read; nil for the first request of the session.
	after <-chan struct{}
	// read is closed once this request counts as read: answered, or
	// written readGrace ago.
	read        chan struct{}
	readOnce    sync.Once
	writtenOnce sync.Once
	writtenAt   atomic.Int64 // UnixNano of the first markWritten; 0 before
	started     atomic.Bool  // a try has taken its turn (releasedBy)
}

// awaitTurn blocks until r may be written: until the request below it
// counts as read, or ctx is done.
func (r *request) awaitTurn(ctx context.Context) error {
	if r.after == nil {
		r.started.Store(true)
		return nil
	}
	select {
	case <-r.after:
		r.started.Store(true)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// markWritten records that a try of r has been written whole: readGrace
// later it counts as read.
func (r *request) markWritten() {
	if r.read == nil {
		return
	}
	r.writtenOnce.Do(func() {
		r.writtenAt.Store(time.Now().UnixNano())
		time.AfterFunc(currentReadGrace(), r.markRead)
	})
}

// releasedBy reports whether an empty answer to r, come now, tells that the
// connection manager has read next, the request with the rid above. With
// hold='1' a manager answers the request it holds, early and empty, only
// when it takes up a newer one (XEP-0124 §10: it may hold no more than
// one), and the newer one can only be next, which had started: a request
// does not start before the one below it counts as read. An answer with
// elements, or once r's wait was half gone (the wait may have ended it),
// tells nothing; neither does any answer under another hold. It is next's
// start, not the end of its writing, that is checked: the answer can come
// before the goroutine that wrote next has recorded it. Without this a
// sender under load goes at one request per readGrace: each request
// follows a fresh one, which the server holds since it has nothing to
// answer (2,400 messages a second against Prosody, a third of WebSocket).
func releasedBy(r, next *request, b *body, p Params, now time.Time) bool {
	if next == nil || !next.started.Load() || p.Hold != 1 || len(b.children) > 0 || b.typ != "" {
		return false
	}
	sent := r.writtenAt.Load()
	return sent != 0 && now.UnixNano()-sent < int64(p.Wait/2)
}

// markRead records that r counts as read by the connection manager, which
// lets the request above it go.
func (r *request) markRead() {
	if r.read == nil {
		return
	}
	r.readOnce.Do(func() { close(r.read) })
}

// wireBody is a request body of a type net/http does not know. Over
// HTTP/1.1 net/http reports a request written (httptrace's WroteRequest)
// once it is in the connection's write buffer, and flushes that buffer just
// after, on the same goroutine. On a busy machine the thread can be
// descheduled in between for a millisecond or more, and the next request,
// let go by the report, got on the wire first in 2 to 4 % of the logins of
// TestLoginsInRIDOrder. For a body it does not know to be in memory (it
// knows *bytes.Reader, *bytes.Buffer and *strings.Reader), net/http flushes
// the headers before the body and then copies the body to the connection
// itself, its buffer empty: when it reports the request written, every byte
// has been handed to the connection. The cost is one more write, and TCP
// segment, per request. HTTP/2 flushes before it reports, either way.
type wireBody struct {
	data []byte
	off  int
}

// newWireBody returns a reader of data, which it does not copy.
func newWireBody(data []byte) *wireBody { return &wireBody{data: data} }

func (b *wireBody) Read(p []byte) (int, error) {
	if b.off >= len(b.data) {
		return 0, io.EOF
	}
	n := copy(p, b.data[b.off:])
	b.off += n
	return n, nil
}

// tryTrace is what net/http reports, through httptrace, about one try.
type tryTrace struct {
	gotConn atomic.Bool // it took a connection: the RoundTripper reports to httptrace
	reused  atomic.Bool // the connection was a kept-alive one
}

// trace returns ctx with a trace that records the try in t and marks r
// written when net/http reports the try written.
func (t *tryTrace) trace(ctx context.Context, r *request) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			t.gotConn.Store(true)
			t.reused.Store(info.Reused)
		},
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				r.markWritten()
			}
		},
	})
}
