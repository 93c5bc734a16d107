package xmppconn

import (
	"crypto/tls"
	"io"
	"log/slog"
	"sync"

	"github.com/xmppconn/xmppconn/internal/xmlframe"
)

// stanzaPipe is the byte stream a mellium Session reads and writes once the
// session is negotiated. Inbound, the read loop hands it whole stanzas;
// outbound, it cuts what mellium's encoder writes back into whole elements and
// passes each to send, so a transport always gets exactly one complete
// element at a time, whatever the encoder's buffering.
type stanzaPipe struct {
	send     func(elem []byte) error
	log      *slog.Logger
	tlsState func() tls.ConnectionState

	mu     sync.Mutex
	cond   sync.Cond
	in     []byte // inbound bytes not yet read by the session
	closed bool

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

// Read implements io.Reader for the session's XML decoder.
func (p *stanzaPipe) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.in) == 0 && !p.closed {
		p.cond.Wait()
	}
	if len(p.in) == 0 {
		return 0, io.EOF
	}
	n := copy(b, p.in)
	p.in = p.in[n:]
	if len(p.in) == 0 {
		p.in = nil // let the backing array go once drained
	}
	return n, nil
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
