package bosh

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"syscall"
	"time"
)

// Settings of roundTripper's pool, those of http.DefaultTransport.
const (
	maxIdlePerHost  = http.DefaultMaxIdleConnsPerHost
	idleConnTimeout = 90 * time.Second
)

// defaultMaxHead bounds the head of an answer (status line and headers)
// when the transport sets no MaxResponseHeaderBytes: a BOSH answer's takes
// a few hundred bytes.
const defaultMaxHead = 64 << 10

// roundTripper is the http.RoundTripper of NewHTTPClient: HTTP/1.1 over
// kept-alive connections, where the goroutine that sends a request writes
// it, in one write, and reads its answer. net/http's Transport hands each
// request to a writing goroutine of the connection and each answer back
// from a reading one: over BOSH, where every exchange is a few hundred
// bytes, those hand-offs (a thread woken for each) were most of the
// client's CPU per request. Requests through a proxy go to net/http's
// Transport. It reports GotConn and WroteRequest to httptrace, as net/http
// does (order.go relies on both); WroteRequest comes once every byte has
// been handed to the connection.
type roundTripper struct {
	dial      DialFunc        // nil: a net.Dialer with http.DefaultTransport's settings
	tlsConfig *tls.Config     // nil: the defaults
	proxied   *http.Transport // with a proxy from the environment
	maxHead   int64           // the most bytes the head of an answer may take

	mu   sync.Mutex
	idle map[string][]*persistConn // by scheme and address, the oldest first
}

// newRoundTripper returns a roundTripper that dials like tr, trusts what
// its TLSClientConfig trusts and sends through tr the requests tr's Proxy
// sends to a proxy.
func newRoundTripper(tr *http.Transport) *roundTripper {
	dial := tr.DialContext
	if dial == nil {
		d := &net.Dialer{Timeout: defaultDialTimeout, KeepAlive: defaultKeepAlive}
		dial = d.DialContext
	}
	// A copy: tr's own first request, or CloseIdleConnections, sets up
	// HTTP/2 in its TLSClientConfig, which would race with a handshake here.
	maxHead := tr.MaxResponseHeaderBytes
	if maxHead <= 0 {
		maxHead = defaultMaxHead
	}
	return &roundTripper{dial: dial, tlsConfig: tr.TLSClientConfig.Clone(), proxied: tr, maxHead: maxHead}
}

// persistConn is one kept-alive connection of a roundTripper.
type persistConn struct {
	key  string
	conn net.Conn
	raw  syscall.RawConn      // of the TCP connection, for alive; may be nil
	tls  *tls.ConnectionState // nil over plain HTTP
	br   *bufio.Reader        // reads through lim
	lim  *io.LimitedReader    // bounds what the head of an answer may take
	idle *time.Timer          // closes it once idle for idleConnTimeout
}

// RoundTrip sends req and reads the head of its answer; the answer's body
// is read from the connection, which goes back to the pool once the body
// has been read to its end.
func (t *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.proxied.Proxy != nil {
		if proxy, err := t.proxied.Proxy(req); err != nil || proxy != nil {
			return t.proxied.RoundTrip(req)
		}
	}
	var port string
	switch req.URL.Scheme {
	case "http":
		port = "80"
	case "https":
		port = "443"
	default:
		closeBody(req)
		return nil, fmt.Errorf("bosh: unsupported protocol scheme %q", req.URL.Scheme)
	}
	if p := req.URL.Port(); p != "" {
		port = p
	}
	addr := net.JoinHostPort(req.URL.Hostname(), port)
	key := req.URL.Scheme + "://" + addr

	ctx := req.Context()
	trace := httptrace.ContextClientTrace(ctx)
	pc, reused := t.take(key), true
	if pc == nil {
		reused = false
		var err error
		if pc, err = t.connect(ctx, req.URL.Scheme, req.URL.Hostname(), addr); err != nil {
			closeBody(req)
			return nil, err
		}
		pc.key = key
	}
	if trace != nil && trace.GotConn != nil {
		trace.GotConn(httptrace.GotConnInfo{Conn: pc.conn, Reused: reused})
	}
	stop := context.AfterFunc(ctx, func() { pc.conn.Close() })
	fail := func(err error) (*http.Response, error) {
		stop()
		pc.conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}

	wire, err := requestBytes(req)
	if err == nil {
		_, err = pc.conn.Write(wire)
	}
	if trace != nil && trace.WroteRequest != nil {
		trace.WroteRequest(httptrace.WroteRequestInfo{Err: err})
	}
	if err != nil {
		return fail(err)
	}
	// What the head may take is bounded, as net/http's Transport bounds
	// it: a server sending a header without end must not take the
	// client's memory with it. The bound counts what the reads bring in,
	// which may go a buffer beyond the head.
	pc.lim.N = t.maxHead + connBufferSize
	resp, err := http.ReadResponse(pc.br, req)
	// An informational answer (1xx) comes before the answer.
	for err == nil && resp.StatusCode >= 100 && resp.StatusCode < 200 {
		resp, err = http.ReadResponse(pc.br, req)
	}
	if err != nil && pc.lim.N <= 0 {
		err = fmt.Errorf("bosh: the head of the answer is larger than %d bytes", t.maxHead)
	}
	pc.lim.N = math.MaxInt64
	if err != nil {
		return fail(err)
	}
	resp.TLS = pc.tls
	resp.Body = &connBody{
		body:  resp.Body,
		reuse: !resp.Close && !req.Close,
		pc:    pc,
		stop:  stop,
		t:     t,
	}
	return resp, nil
}

// closeBody closes the body of a request RoundTrip does not send, as
// http.RoundTripper asks.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// connect dials addr, with TLS for https.
func (t *roundTripper) connect(ctx context.Context, scheme, host, addr string) (*persistConn, error) {
	conn, err := t.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	var (
		raw   syscall.RawConn
		state *tls.ConnectionState
	)
	if sc, ok := conn.(syscall.Conn); ok {
		raw, _ = sc.SyscallConn()
	}
	if scheme == "https" {
		cfg := &tls.Config{}
		if t.tlsConfig != nil {
			cfg = t.tlsConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(conn, cfg)
		trace := httptrace.ContextClientTrace(ctx)
		if trace != nil && trace.TLSHandshakeStart != nil {
			trace.TLSHandshakeStart()
		}
		err := tc.HandshakeContext(ctx)
		st := tc.ConnectionState()
		if trace != nil && trace.TLSHandshakeDone != nil {
			trace.TLSHandshakeDone(st, err)
		}
		if err != nil {
			conn.Close()
			return nil, err
		}
		conn, state = tc, &st
	}
	lim := &io.LimitedReader{R: conn, N: math.MaxInt64}
	return &persistConn{conn: conn, raw: raw, tls: state, lim: lim, br: bufio.NewReaderSize(lim, connBufferSize)}, nil
}

// take returns an idle connection for key, the one idle the longest, or
// nil. A connection the server has closed meanwhile is dropped: taken, it
// would fail the request, which would then go again on a new one. The
// oldest goes first because the newest may be closing: Prosody 13 closes
// the connection of a terminate once it has answered, and its end may not
// have come yet when the next session starts.
func (t *roundTripper) take(key string) *persistConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		conns := t.idle[key]
		if len(conns) == 0 {
			return nil
		}
		pc := conns[0]
		if len(conns) == 1 {
			delete(t.idle, key)
		} else {
			t.idle[key] = append(conns[:0], conns[1:]...)
		}
		pc.idle.Stop()
		if alive(pc.raw) {
			return pc
		}
		pc.conn.Close()
	}
}

// put keeps pc for the next request, unless the pool for its address is
// full; the oldest idle connection goes first.
func (t *roundTripper) put(pc *persistConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.idle == nil {
		t.idle = make(map[string][]*persistConn)
	}
	conns := t.idle[pc.key]
	if len(conns) >= maxIdlePerHost {
		conns[0].idle.Stop()
		conns[0].conn.Close()
		conns = append(conns[:0], conns[1:]...)
	}
	t.idle[pc.key] = append(conns, pc)
	pc.idle = time.AfterFunc(idleConnTimeout, func() { t.expire(pc) })
}

// expire closes pc if it is still idle.
func (t *roundTripper) expire(pc *persistConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	conns := t.idle[pc.key]
	for i, c := range conns {
		if c == pc {
			t.idle[pc.key] = append(conns[:i], conns[i+1:]...)
			pc.conn.Close()
			return
		}
	}
}

// CloseIdleConnections closes the connections no request is using.
func (t *roundTripper) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, conns := range idle {
		for _, pc := range conns {
			pc.idle.Stop()
			pc.conn.Close()
		}
	}
	t.proxied.CloseIdleConnections()
}

// connBody is the body of an answer: read to its end, it gives its
// connection back to the pool, if the connection may carry another request
// and the request was not cancelled meanwhile; closed before, it closes the
// connection, which holds the rest.
type connBody struct {
	body  io.ReadCloser
	reuse bool
	pc    *persistConn
	stop  func() bool // stops the request's cancellation; false once it ran
	t     *roundTripper
	done  bool
}

func (b *connBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.body.Read(p)
	if err != nil {
		b.end(errors.Is(err, io.EOF))
	}
	return n, err
}

func (b *connBody) Close() error {
	if !b.done {
		b.end(false)
	}
	return nil
}

// end releases the connection once: to the pool when the body was read
// whole and nothing forbids it, else closed.
func (b *connBody) end(whole bool) {
	b.done = true
	if b.stop() && whole && b.reuse && b.pc.br.Buffered() == 0 {
		b.t.put(b.pc)
		return
	}
	b.pc.conn.Close()
}
