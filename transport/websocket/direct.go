package websocket

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"time"
)

// directTransport performs a WebSocket upgrade on a connection of its own:
// it dials, writes the request and reads the answer itself, and hands the
// connection over on 101. An http.Transport does the same through a
// persistConn with two goroutines and a pool, which costs a connect about
// 0.2 ms of CPU for a connection that is never reused anyway. Requests that
// go through a proxy, or that are not upgrades, take the fallback.
//
// Like an http.Transport, it reports to an httptrace.ClientTrace in the
// request's context: the lookup and the TCP connection (through the
// net.Dialer), the TLS handshake, and GotConn once the connection is ready
// for the request.
type directTransport struct {
	tls      *tls.Config // for https (wss); nil means the defaults
	dialer   net.Dialer
	proxy    func(*http.Request) (*url.URL, error)
	fallback http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *directTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Upgrade") == "" || req.Method != http.MethodGet {
		return t.fallback.RoundTrip(req)
	}
	if t.proxy != nil {
		if p, err := t.proxy(req); err != nil || p != nil {
			return t.fallback.RoundTrip(req)
		}
	}
	ctx := req.Context()
	host, port := req.URL.Hostname(), req.URL.Port()
	secure := req.URL.Scheme == "https"
	if port == "" {
		port = "80"
		if secure {
			port = "443"
		}
	}
	conn, err := t.dialer.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, err
	}
	resp, err := t.handshake(ctx, req, conn, host, secure)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return resp, nil
}

// handshake secures conn when asked, writes req and reads the answer, all
// bounded by ctx.
func (t *directTransport) handshake(ctx context.Context, req *http.Request, conn net.Conn, host string, secure bool) (*http.Response, error) {
	// The end of ctx interrupts whatever I/O is in progress.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	trace := httptrace.ContextClientTrace(ctx)
	var state *tls.ConnectionState
	if secure {
		cfg := &tls.Config{}
		if t.tls != nil {
			cfg = t.tls.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		cfg.NextProtos = []string{"http/1.1"} // an upgrade is HTTP/1.1 only
		tc := tls.Client(conn, cfg)
		if trace != nil && trace.TLSHandshakeStart != nil {
			trace.TLSHandshakeStart()
		}
		err := tc.HandshakeContext(ctx)
		st := tc.ConnectionState()
		if trace != nil && trace.TLSHandshakeDone != nil {
			trace.TLSHandshakeDone(st, err)
		}
		if err != nil {
			return nil, ctxErr(ctx, err)
		}
		state, conn = &st, tc
	}
	if trace != nil && trace.GotConn != nil {
		trace.GotConn(httptrace.GotConnInfo{Conn: conn})
	}
	if err := writeUpgrade(conn, req); err != nil {
		return nil, ctxErr(ctx, err)
	}
	br := bufio.NewReaderSize(conn, upgradeBufferSize)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	if !stop() {
		resp.Body.Close()
		return nil, ctx.Err()
	}
	resp.TLS = state
	if resp.StatusCode != http.StatusSwitchingProtocols {
		resp.Body = &closeBoth{ReadCloser: resp.Body, conn: conn}
		return resp, nil
	}
	// The server may have sent its first frame with the answer.
	var r io.Reader = conn
	if n := br.Buffered(); n > 0 {
		head, _ := br.Peek(n)
		r = io.MultiReader(bytes.NewReader(bytes.Clone(head)), conn)
	}
	resp.Body = &upgraded{Reader: r, conn: conn}
	return resp, nil
}

// ctxErr prefers the end of ctx to the I/O error it caused.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// upgraded is the body of a 101 answer: the connection itself.
type upgraded struct {
	io.Reader
	conn net.Conn
}

func (u *upgraded) Write(p []byte) (int, error) { return u.conn.Write(p) }
func (u *upgraded) Close() error                { return u.conn.Close() }

// closeBoth is the body of another answer: closing it closes the
// connection, which is used for nothing else.
type closeBoth struct {
	io.ReadCloser
	conn net.Conn
}

func (c *closeBoth) Close() error {
	return errors.Join(c.ReadCloser.Close(), c.conn.Close())
}

// upgradeBufferSize is the size of the read and write buffers of the
// connection of an upgrade request. They serve the handshake only
// (coder/websocket reads and writes the upgraded connection through its
// own), so net/http's 4 KiB each would be garbage made by every dial.
const upgradeBufferSize = 1 << 10

// Dial settings of http.DefaultTransport.
const (
	dialTimeout = 30 * time.Second
	keepAlive   = 30 * time.Second
)

// newDirectTransport returns the upgrade transport of a Dial without an
// HTTPClient: direct connections secured with cfg (nil: the defaults), and
// fallback for requests through a proxy.
func newDirectTransport(cfg *tls.Config, fallback http.RoundTripper) *directTransport {
	return &directTransport{
		tls:      cfg,
		dialer:   net.Dialer{Timeout: dialTimeout, KeepAlive: keepAlive},
		proxy:    http.ProxyFromEnvironment,
		fallback: fallback,
	}
}

// defaultTransport is the upgrade transport of a Dial whose Options has no
// HTTPClient and no TLSConfig; its fallback is a clone of
// http.DefaultTransport with small buffers.
var defaultTransport = func() *directTransport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ReadBufferSize, tr.WriteBufferSize = upgradeBufferSize, upgradeBufferSize
	return newDirectTransport(nil, tr)
}()
