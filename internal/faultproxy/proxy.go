package faultproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// mode is what the proxy does with a connection it accepts.
type mode int

const (
	modeForward   mode = iota // dial the target and forward
	modeBlackhole             // keep the client connection open, forward nothing
	modeRefuse                // close the client connection with RST at once
)

// dialTimeout bounds the proxy's dial of its target.
const dialTimeout = 10 * time.Second

// Proxy forwards TCP connections from its own loopback listener to a target
// address, and injects faults on demand. Its methods are safe for concurrent
// use. Create it with Start and stop it with Close.
type Proxy struct {
	target string
	ln     net.Listener
	ctx    context.Context // cancelled by Close; bounds dials
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine of the proxy

	mu           sync.Mutex
	closed       bool
	mode         mode
	links        map[*link]struct{}
	conns        int           // accepted so far
	changed      chan struct{} // closed and replaced when conns or links change
	delay        time.Duration
	delayChanged chan struct{} // closed and replaced when delay changes
	onChunk      func(dir Direction, n int)
	flights      int
	lastDir      Direction // direction of the last forwarded chunk
	anyChunk     bool      // whether a chunk has been forwarded yet
}

// Start listens on 127.0.0.1:0 and forwards each connection it accepts to
// target, e.g. "127.0.0.1:5280". The target is dialed once per accepted
// connection, so it need not be up yet; when that dial fails, the client's
// connection is reset.
func Start(target string) (*Proxy, error) {
	if target == "" {
		return nil, errors.New("faultproxy: start: empty target address")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: start: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		target:       target,
		ln:           ln,
		ctx:          ctx,
		cancel:       cancel,
		links:        make(map[*link]struct{}),
		changed:      make(chan struct{}),
		delayChanged: make(chan struct{}),
	}
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr returns the proxy's listening address, "127.0.0.1:PORT", to give to
// the client in place of the target's.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Port returns the proxy's listening port.
func (p *Proxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// Target returns the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Conns returns the number of connections accepted so far, refused ones
// included, for tests that count the client's dials.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns
}

// Active returns the number of connections currently open: accepted and not
// yet closed on both sides by the proxy.
func (p *Proxy) Active() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// WaitConns blocks until Conns() is at least n (e.g. until the client has
// redialed) or ctx is done.
func (p *Proxy) WaitConns(ctx context.Context, n int) error {
	err := p.waitFor(ctx, func() bool { return p.conns >= n })
	if err != nil {
		return fmt.Errorf("faultproxy: wait for %d connections: %w", n, err)
	}
	return nil
}

// WaitActive blocks until Active() equals n or ctx is done.
func (p *Proxy) WaitActive(ctx context.Context, n int) error {
	err := p.waitFor(ctx, func() bool { return len(p.links) == n })
	if err != nil {
		return fmt.Errorf("faultproxy: wait for %d active connections: %w", n, err)
	}
	return nil
}

// waitFor blocks until cond, evaluated with p.mu held, is true.
func (p *Proxy) waitFor(ctx context.Context, cond func() bool) error {
	for {
		p.mu.Lock()
		ok, ch := cond(), p.changed
		p.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// notifyLocked wakes the waiters of waitFor. p.mu must be held.
func (p *Proxy) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// Close stops the proxy: it closes the listener and every connection (with
// FIN), and returns once all of its goroutines have ended. Calling Close again
// does nothing.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	links := p.snapshotLocked()
	p.mu.Unlock()

	p.cancel()
	err := p.ln.Close()
	for _, l := range links {
		l.close(false)
	}
	p.wg.Wait()
	if err != nil {
		return fmt.Errorf("faultproxy: close: %w", err)
	}
	return nil
}

// snapshotLocked returns the current links. p.mu must be held.
func (p *Proxy) snapshotLocked() []*link {
	links := make([]*link, 0, len(p.links))
	for l := range p.links {
		links = append(links, l)
	}
	return links
}

// acceptLoop accepts connections until the listener is closed.
func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if p.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// A transient failure such as too many open files: retry
			// shortly, unless the proxy is closing.
			select {
			case <-p.ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		p.accept(c.(*net.TCPConn))
	}
}

// accept handles one new client connection according to the current mode.
func (p *Proxy) accept(c *net.TCPConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return
	}
	p.conns++
	p.notifyLocked()
	switch p.mode {
	case modeRefuse:
		c.SetLinger(0)
		c.Close()
		return
	case modeBlackhole:
		l := newLink(p, c)
		l.blackholed.Store(true)
		p.links[l] = struct{}{}
		p.wg.Add(1)
		go l.run(false)
	default:
		l := newLink(p, c)
		p.links[l] = struct{}{}
		p.wg.Add(1)
		go l.run(true)
	}
}

// remove forgets a closed link.
func (p *Proxy) remove(l *link) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.links[l]; ok {
		delete(p.links, l)
		p.notifyLocked()
	}
}
