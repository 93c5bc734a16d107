package bosh

import (
	"context"
	"io"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
)

// Requests reach the wire in rid order.
//
// XEP-0124 §14 lets a connection manager rely on it, and some do: ejabberd
// answers neither request when rid N+1 arrives before rid N. Each request
// travels on its own HTTP exchange, often on its own connection, so two
// requests started together can arrive in either order; right after session
// creation the first long-poll (N) and the SASL <auth/> (N+1) leave together,
// and the <auth/> wins whenever the poll has to dial a connection while the
// <auth/> takes the kept-alive one.
//
// The rule: no try of a request starts (takes a connection, writes a byte)
// before the request with the rid just below has been written whole to its
// connection. By induction every lower rid has been written by then.
//
//   - "Written" is what httptrace's WroteRequest reports without an error,
//     once every byte has been handed to the connection (see wireBody), or an
//     answer to a try (the server has the request).
//   - A retransmission of a request written once needs no turn: the server
//     has seen that rid (or will report its loss), and the higher rids are
//     out already. A request whose try failed before it was written (a dial
//     error, a refused connection) has not been written: the requests above
//     it keep waiting, through its backoff, until a try of it is. It never
//     waits itself, since the request below it was written before its first
//     try started.
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
//     starts, which keeps only the order in which the tries start.
//
// The wait is bounded by the session: a request that is never written fails
// after its tries, which ends the session and cancels every wait.

// writeOrder is the part of a request that keeps the rid order on the wire.
type writeOrder struct {
	// after is closed once the request with the rid just below has been
	// written; nil for the first request of the session.
	after <-chan struct{}
	// written is closed once a try of this request has been written whole.
	written     chan struct{}
	writtenOnce sync.Once
}

// awaitTurn blocks until r may be written: until the request below it has
// been written, or ctx is done.
func (r *request) awaitTurn(ctx context.Context) error {
	if r.after == nil {
		return nil
	}
	select {
	case <-r.after:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// markWritten records that a try of r has been written whole, which lets
// the request above it go.
func (r *request) markWritten() {
	if r.written == nil {
		return
	}
	r.writtenOnce.Do(func() { close(r.written) })
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
	gotConn     atomic.Bool // it took a connection: the RoundTripper reports to httptrace
	reused      atomic.Bool // the connection was a kept-alive one
	writeFailed atomic.Bool // writing the request failed
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
			if info.Err != nil {
				t.writeFailed.Store(true)
				return
			}
			r.markWritten()
		},
	})
}

// stale reports whether the try failed writing to a kept-alive connection,
// as when the server closed it while the client was taking it: the
// request did not reach the server whole and may be sent again at once.
func (t *tryTrace) stale() bool {
	return t.reused.Load() && t.writeFailed.Load()
}
