package xmppconn

import (
	"sync"
	"sync/atomic"

	"github.com/xmppconn/xmppconn/transport"
)

// The goroutines of a Connection, all counted in c.loops so that Connect
// and Disconnect can wait until none is left. Each is started by spawn (or,
// for the keepalive, counted by armKeepalive), always by a caller that holds
// a count itself or holds c.mu while a session is live, so that a wait can
// never end between one goroutine's end and the next one's start.
//
//   - read (readOnce): one element of the live stream, then it starts the
//     next read and ends; over BOSH the next read starts only once an
//     element is there (transport.ReadNotifier), so an idle BOSH session
//     keeps no reader.
//   - process (processInbound): what the reads got, in order; it exists
//     only while elements wait.
//   - handler (runHandler): Config.Handler, one stanza at a time; it exists
//     only while stanzas wait.
//   - keepalive: not a goroutine but a timer per stream; its count is held
//     from armKeepalive until the stream is closed and no check or payer
//     runs. Its payer (payDebts) writes the answers owed to the server
//     while some are owed.
//   - serve: mellium's Serve, once Session was called.
//   - recover: the resumption or reconnection after a lost stream.
//   - refresh: RefreshToken's move to a new stream, while it runs (counted
//     by resumeNow itself, as it runs on the caller's goroutine).
//
//   - extension work started with Go, while it runs; it gets a context
//     that ends with the live stream.
//
// Not counted: the outbox's two timers (outbox.go), whose functions run
// briefly under the outbox's lock: the write timeout, which closes a
// transport whose write hangs, and the ack timer, which writes an <r/> or
// the stanzas held for room; reset stops the ack timer.

// spawn runs f on a new goroutine counted in c.loops. The goroutines
// started for every element (read, process, handler) use the counted
// methods below instead, which cost no closure.
func (c *Connection) spawn(f func()) {
	c.loops.Add(1)
	go func() {
		defer c.loops.Done()
		f()
	}()
}

// readCounted, processCounted and handleCounted run the per-element
// goroutines, each holding one count in c.loops taken by its starter.
func (c *Connection) readCounted(l *link) {
	defer c.loops.Done()
	c.readOnce(l)
}

func (c *Connection) processCounted(l *link) {
	defer c.loops.Done()
	c.processInbound(l)
}

func (c *Connection) handleCounted() {
	defer c.loops.Done()
	c.runHandler()
}

// startLink starts the loops of a stream that just became the live one:
// its first read and its keepalive.
func (c *Connection) startLink(l *link) {
	// The negotiator said so after a bind; a resumed stream, or one bound
	// inline by SASL2, hears it here (a second call does nothing).
	if n, ok := l.tc.(transport.Negotiator); ok {
		n.Negotiated()
	}
	c.startRead(l)
	c.armKeepalive(l)
}

// startRead starts the next read of l: at once, or, when the transport can
// tell (BOSH), once an element is there to read.
func (c *Connection) startRead(l *link) {
	c.loops.Add(1) // held while the transport waits to call back, then by the read
	if n, ok := l.tc.(transport.ReadNotifier); ok {
		n.NotifyReadable(func() { go c.readCounted(l) })
		return
	}
	go c.readCounted(l)
}

// loopGroup counts the Connection's goroutines: a sync.WaitGroup that also
// tells, without a goroutine of its own, that none is left (the usual case
// when Connect starts).
type loopGroup struct {
	wg sync.WaitGroup
	n  atomic.Int64
}

// Add counts delta more goroutines.
func (g *loopGroup) Add(delta int) {
	g.n.Add(int64(delta))
	g.wg.Add(delta)
}

// Done counts one goroutine less.
func (g *loopGroup) Done() {
	g.wg.Done()
	g.n.Add(-1)
}

// Wait waits until none is left.
func (g *loopGroup) Wait() { g.wg.Wait() }

// idle reports whether none is left.
func (g *loopGroup) idle() bool { return g.n.Load() == 0 }
