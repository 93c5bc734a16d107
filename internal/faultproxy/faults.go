package faultproxy

import "time"

// Cut closes every current connection on both sides, as a peer closing it
// would: the client and the server each read EOF (if the client had sent
// bytes the proxy had not read yet, the kernel sends RST instead, as it would
// for a real server). A chunk being written is finished first (waiting at
// most a second for it): the cut falls between the chunks the proxy read,
// never in the middle of one. The proxy keeps accepting and forwarding new
// connections.
//
// Cutting between chunks keeps the test away from a Prosody 0.12 bug: a
// WebSocket frame that arrived only in part before the connection died is
// kept in the session's frame buffer and prepended to the data of the
// connection that resumes the session, which garbles the first frame there
// (not-well-formed, and the resumption is lost).
func (p *Proxy) Cut() {
	for _, l := range p.snapshot() {
		l.closeBetweenWrites()
	}
}

// Reset closes every current connection with RST on the client side
// (SO_LINGER 0: the client reads ECONNRESET) and closes the server side. The
// proxy keeps accepting and forwarding new connections.
func (p *Proxy) Reset() {
	for _, l := range p.snapshot() {
		l.close(true)
	}
}

// Blackhole makes the network silent until Restore: the proxy still accepts
// new connections but does not dial the target for them; on every
// connection, new and existing, the bytes read from either side are dropped,
// and nothing is closed. A client notices only through its own timeouts.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = modeBlackhole
	for l := range p.links {
		l.blackholed.Store(true)
	}
}

// Delay adds d of latency to each chunk forwarded in either direction, on new
// and existing connections: a chunk read at time t is written at t+d, in
// order, without the delays of successive chunks adding up. A chunk already
// waiting follows the new value at once. Delay(0) removes the latency.
// Restore leaves the delay as it is.
func (p *Proxy) Delay(d time.Duration) {
	if d < 0 {
		d = 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
	close(p.delayChanged)
	p.delayChanged = make(chan struct{})
}

// Refuse makes the server look down: from now on each new connection is
// accepted and closed at once with RST, so the client's dial, or its first
// read or write, fails with ECONNRESET (the port stays bound, so the dial
// cannot fail with ECONNREFUSED); and every current connection is cut as by
// Cut. Refused connections count in Conns. Until Restore.
func (p *Proxy) Refuse() {
	p.mu.Lock()
	p.mode = modeRefuse
	links := p.snapshotLocked()
	p.mu.Unlock()
	for _, l := range links {
		l.close(false)
	}
}

// Restore returns to normal forwarding for new connections, after Blackhole
// or Refuse. Blackholed connections stay dead: the proxy closes their server
// side (the server sees the connection drop) but keeps their client side open
// and silent, so the client has to notice on its own timeouts or pings; call
// Cut before Restore to close them with FIN instead.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.mode = modeForward
	links := p.snapshotLocked()
	p.mu.Unlock()
	for _, l := range links {
		if l.blackholed.Load() {
			l.dropServer()
		}
	}
}

// snapshot returns the current links.
func (p *Proxy) snapshot() []*link {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.snapshotLocked()
}

// delayState returns the current delay and a channel closed when it changes.
func (p *Proxy) delayState() (time.Duration, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.delay, p.delayChanged
}
