package xmppconn

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/xmppconn/xmppconn/internal/xmlframe"
)

// stanzaPipe is the byte stream a mellium Session reads and writes once the
// session is negotiated. Inbound, the dispatcher hands it whole stanzas;
// outbound, it cuts what mellium's encoder writes back into whole elements and
// passes each to send, so a transport always gets exactly one complete
// element at a time, whatever the encoder's buffering.
type stanzaPipe struct {
	send     func(elem []byte) error
	log      *slog.Logger
	tlsState func() tls.ConnectionState

	mu     sync.Mutex
	cond   sync.Cond
	in     []byte // inbound bytes not yet taken by the session's reader
	closed bool

	// rbuf holds the bytes the reader took from in and has not read yet.
	// Only the session's decoder reads (under mellium's input lock), so
	// rbuf needs no lock: ReadByte costs no lock per byte.
	rbuf []byte

	wmu   sync.Mutex // serialises Write (mellium already does; cheap insurance)
	split xmlframe.Splitter
}

func newStanzaPipe(send func([]byte) error, log *slog.Logger, tlsState func() tls.ConnectionState) *stanzaPipe {
	p := &stanzaPipe{send: send, log: log, tlsState: tlsState}
	p.cond.L = &p.mu
	return p
}

// deliver queues one inbound element for the session.
func (p *stanzaPipe) deliver(elem []byte) {
	p.mu.Lock()
	if !p.closed {
		p.in = append(p.in, elem...)
		p.cond.Signal()
	}
	p.mu.Unlock()
}

// close ends the inbound stream: once the queued bytes are read, Read
// returns io.EOF and the session's Serve returns.
func (p *stanzaPipe) close() {
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
}

// take waits for inbound bytes and moves them all to rbuf; it returns
// io.EOF once the pipe is closed and drained.
func (p *stanzaPipe) take() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.in) == 0 && !p.closed {
		p.cond.Wait()
	}
	if len(p.in) == 0 {
		return io.EOF
	}
	p.rbuf, p.in = p.in, nil
	return nil
}

// Read implements io.Reader.
func (p *stanzaPipe) Read(b []byte) (int, error) {
	if len(p.rbuf) == 0 {
		if err := p.take(); err != nil {
			return 0, err
		}
	}
	n := copy(b, p.rbuf)
	p.rbuf = p.rbuf[n:]
	if len(p.rbuf) == 0 {
		p.rbuf = nil // let the backing array go once drained
	}
	return n, nil
}

// ReadByte implements io.ByteReader. encoding/xml reads through it directly
// instead of wrapping the pipe in a 4 KiB bufio.Reader, which every idle
// session would otherwise keep.
func (p *stanzaPipe) ReadByte() (byte, error) {
	if len(p.rbuf) == 0 {
		if err := p.take(); err != nil {
			return 0, err
		}
	}
	c := p.rbuf[0]
	p.rbuf = p.rbuf[1:]
	if len(p.rbuf) == 0 {
		p.rbuf = nil
	}
	return c, nil
}

// Write implements io.Writer for the session's XML encoder. It fails only
// when the encoder wrote something that is not XML: the encoder keeps a
// write error for good, so a full queue (ErrQueueFull) is logged here and
// reported by Connection.Send, which checks the bound before encoding.
func (p *stanzaPipe) Write(b []byte) (int, error) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	err := p.split.Write(b, func(elem []byte) error {
		if err := p.send(append([]byte(nil), elem...)); err != nil {
			p.log.Error("xmppconn: stanza dropped", "err", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(b), nil
}

// ConnectionState lets mellium see the transport's TLS state.
func (p *stanzaPipe) ConnectionState() tls.ConnectionState {
	if p.tlsState == nil {
		return tls.ConnectionState{}
	}
	return p.tlsState()
}

// The pipe is a net.Conn so that mellium uses it as is, without a wrapper
// of its own between its decoder and ReadByte. Closing is the Connection's
// business (close), addresses are unknown and deadlines do not apply.
var _ net.Conn = (*stanzaPipe)(nil)

// Close does nothing: the Connection ends the pipe with close.
func (p *stanzaPipe) Close() error { return nil }

// LocalAddr returns nil: the pipe has no network address.
func (p *stanzaPipe) LocalAddr() net.Addr { return nil }

// RemoteAddr returns nil: the pipe has no network address.
func (p *stanzaPipe) RemoteAddr() net.Addr { return nil }

// SetDeadline does nothing.
func (p *stanzaPipe) SetDeadline(time.Time) error { return nil }

// SetReadDeadline does nothing.
func (p *stanzaPipe) SetReadDeadline(time.Time) error { return nil }

// SetWriteDeadline does nothing.
func (p *stanzaPipe) SetWriteDeadline(time.Time) error { return nil }
