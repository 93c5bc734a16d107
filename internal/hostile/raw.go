package hostile

import (
	"bufio"
	"context"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// RawServer accepts TCP connections on 127.0.0.1 and runs a handler on
// each: for servers that misbehave below HTTP (a TLS handshake that never
// ends, a handshake answered one byte at a time).
type RawServer struct {
	ln     net.Listener
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
	n      atomic.Int32

	mu    sync.Mutex
	conns map[net.Conn]bool
}

// NewRaw starts a RawServer; handle owns the connection until it returns
// or ctx ends (the connection is closed then).
func NewRaw(handle func(ctx context.Context, c net.Conn)) (*RawServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &RawServer{ln: ln, conns: make(map[net.Conn]bool)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.n.Add(1)
			s.mu.Lock()
			s.conns[c] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				stop := context.AfterFunc(s.ctx, func() { c.Close() })
				defer stop()
				handle(s.ctx, c)
				c.Close()
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}()
		}
	}()
	return s, nil
}

// Addr returns the host:port the server listens on.
func (s *RawServer) Addr() string { return s.ln.Addr().String() }

// Accepted returns the number of connections accepted.
func (s *RawServer) Accepted() int { return int(s.n.Load()) }

// Close closes the listener and every connection, and waits for the
// handlers.
func (s *RawServer) Close() {
	s.once.Do(func() {
		s.cancel()
		s.ln.Close()
		s.wg.Wait()
	})
}

// Silent reads and discards what the client sends and never answers: a
// server whose TLS handshake, HTTP answer or upgrade never comes.
func Silent(ctx context.Context, c net.Conn) {
	_, _ = io.Copy(io.Discard, c)
}

// Drip writes data one byte every interval, and reports whether all of it
// was written before ctx ended.
func Drip(ctx context.Context, w io.Writer, data []byte, interval time.Duration) bool {
	t := time.NewTicker(interval)
	defer t.Stop()
	for i := range data {
		if _, err := w.Write(data[i : i+1]); err != nil {
			return false
		}
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}

// TLS wraps a raw handler so that it runs over TLS with ca's certificate.
func TLS(ca *CA, handle func(ctx context.Context, c net.Conn)) func(ctx context.Context, c net.Conn) {
	return func(ctx context.Context, c net.Conn) {
		tc := tls.Server(c, ca.ServerConfig())
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := tc.HandshakeContext(hctx); err != nil {
			return
		}
		handle(ctx, tc)
	}
}

// UpgradeResponse reads a WebSocket handshake request from c and returns
// the 101 answer that accepts it with the xmpp subprotocol.
func UpgradeResponse(c net.Conn) ([]byte, *bufio.Reader, error) {
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, nil, err
	}
	key := req.Header.Get("Sec-WebSocket-Key")
	if key == "" {
		return nil, nil, errors.New("hostile: no Sec-WebSocket-Key")
	}
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(h[:]) + "\r\n" +
		"Sec-WebSocket-Protocol: xmpp\r\n\r\n"
	return []byte(resp), br, nil
}

// ReadFrame reads one WebSocket frame a client sent and returns its
// unmasked payload.
func ReadFrame(r io.Reader) ([]byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 1<<20 {
		return nil, errors.New("hostile: frame too large")
	}
	var mask [4]byte
	if h[1]&0x80 != 0 {
		if _, err := io.ReadFull(r, mask[:]); err != nil {
			return nil, err
		}
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return nil, err
	}
	for i := range p {
		p[i] ^= mask[i%4]
	}
	return p, nil
}

// TextFrame returns an unmasked, final WebSocket text frame holding p, as a
// server sends it.
func TextFrame(p []byte) []byte {
	f := []byte{0x81}
	switch n := len(p); {
	case n < 126:
		f = append(f, byte(n))
	case n < 1<<16:
		f = append(f, 126, byte(n>>8), byte(n))
	default:
		f = append(f, 127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	return append(f, p...)
}
