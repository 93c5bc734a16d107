package faultproxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// readSize is the largest chunk one read takes from a side.
const readSize = 32 << 10

// queueLen is how many chunks a direction holds between its reader and its
// writer before the reader stops reading (the kernel buffers then fill and
// TCP flow control pushes back on the sender).
const queueLen = 16

// A link is one client connection and, once dialed, its server connection.
// Each direction has a reader goroutine that stamps chunks with the time they
// were read and a writer goroutine that writes them after the delay, so that
// latency does not add up over successive chunks.
type link struct {
	p          *Proxy
	client     *net.TCPConn
	blackholed atomic.Bool   // forward nothing from now on; set once, never cleared
	done       chan struct{} // closed by close
	writing    chan struct{} // holds a token while a chunk is being written
	finished   atomic.Int32  // directions that ended cleanly

	mu            sync.Mutex
	closed        bool
	server        *net.TCPConn // nil until dialed, or when never dialed
	serverDropped bool         // Restore closed the server side of a blackholed link
}

// chunk is what one read returned, with the time it was read.
type chunk struct {
	data []byte
	at   time.Time
}

// pipe carries the chunks of one direction from its reader to its writer.
type pipe struct {
	queue chan chunk
	eof   bool // the source ended with EOF; written before queue is closed
}

func newLink(p *Proxy, client *net.TCPConn) *link {
	return &link{p: p, client: client, done: make(chan struct{}), writing: make(chan struct{}, 1)}
}

// run dials the target when dial is true, then starts forwarding. It runs on
// a goroutine counted in p.wg.
func (l *link) run(dial bool) {
	defer l.p.wg.Done()
	var server *net.TCPConn
	if dial {
		d := net.Dialer{Timeout: dialTimeout}
		c, err := d.DialContext(l.p.ctx, "tcp", l.p.target)
		if err != nil {
			// The target is down: the client sees a reset. A dial that
			// Close cut short gets the FIN that Close promises.
			l.close(l.p.ctx.Err() == nil)
			return
		}
		server = c.(*net.TCPConn)
		l.mu.Lock()
		switch {
		case l.closed:
			l.mu.Unlock()
			server.Close()
			return
		case l.serverDropped:
			server.Close()
			server = nil
		default:
			l.server = server
		}
		l.mu.Unlock()
	}
	if server == nil {
		// Blackholed from the start: only drain the client.
		l.finished.Add(1)
		l.forward(l.client, nil, ClientToServer)
		return
	}
	l.forward(l.client, server, ClientToServer)
	l.forward(server, l.client, ServerToClient)
}

// forward starts the reader and the writer of one direction.
func (l *link) forward(src, dst *net.TCPConn, dir Direction) {
	pp := &pipe{queue: make(chan chunk, queueLen)}
	l.p.wg.Add(2)
	go l.read(src, pp)
	go l.write(dst, dir, pp)
}

// read reads src until it fails, queueing what it reads unless the link is
// blackholed.
func (l *link) read(src *net.TCPConn, pp *pipe) {
	defer l.p.wg.Done()
	defer close(pp.queue)
	buf := make([]byte, readSize)
	for {
		n, err := src.Read(buf)
		if n > 0 && !l.blackholed.Load() {
			c := chunk{data: bytes.Clone(buf[:n]), at: time.Now()}
			select {
			case pp.queue <- c:
			case <-l.done:
				return
			}
		}
		if err != nil {
			switch {
			case errors.Is(err, io.EOF):
				pp.eof = true
			case l.blackholed.Load():
				// Nothing is closed in a blackhole.
			case errors.Is(err, syscall.ECONNRESET):
				l.close(true)
			default:
				l.close(false)
			}
			return
		}
	}
}

// write writes the queued chunks to dst after the delay, then passes on an
// EOF as a half-close. A nil dst drops everything.
func (l *link) write(dst *net.TCPConn, dir Direction, pp *pipe) {
	defer l.p.wg.Done()
	for c := range pp.queue {
		if dst == nil || l.blackholed.Load() {
			continue
		}
		if !l.wait(c.at) {
			return
		}
		if l.blackholed.Load() {
			continue
		}
		select {
		case l.writing <- struct{}{}:
		case <-l.done:
			return
		}
		l.p.noteChunk(dir, len(c.data))
		_, err := dst.Write(c.data)
		<-l.writing
		if err != nil {
			l.close(false)
			return
		}
	}
	if pp.eof && dst != nil && !l.blackholed.Load() {
		dst.CloseWrite()
	}
	if l.finished.Add(1) == 2 {
		l.close(false)
	}
}

// wait blocks until the current delay has passed since at. It follows
// changes of the delay and reports false if the link closes first.
func (l *link) wait(at time.Time) bool {
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		d, changed := l.p.delayState()
		left := time.Until(at.Add(d))
		if d == 0 || left <= 0 {
			return true
		}
		if t == nil {
			t = time.NewTimer(left)
		} else {
			t.Reset(left)
		}
		select {
		case <-t.C:
			return true
		case <-changed:
		case <-l.done:
			return false
		}
	}
}

// close closes both sides, the client side with RST when reset is true, and
// forgets the link. It is idempotent.
func (l *link) close(reset bool) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	server := l.server
	l.mu.Unlock()

	if reset {
		l.client.SetLinger(0)
	}
	l.client.Close()
	if server != nil {
		server.Close()
	}
	close(l.done)
	l.p.remove(l)
}

// closeBetweenWrites closes the link once no chunk is being written, or
// after a second if a write stays blocked (a peer that does not read).
func (l *link) closeBetweenWrites() {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case l.writing <- struct{}{}:
		l.close(false)
		<-l.writing
	case <-t.C:
		l.close(false)
	case <-l.done:
	}
}

// dropServer closes the server side of a blackholed link and leaves its
// client side open and silent.
func (l *link) dropServer() {
	l.mu.Lock()
	if l.closed || l.serverDropped {
		l.mu.Unlock()
		return
	}
	l.serverDropped = true
	server := l.server
	l.mu.Unlock()
	if server != nil {
		server.Close()
	}
}
