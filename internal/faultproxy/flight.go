package faultproxy

// Direction is the way a chunk of bytes travels through the proxy.
type Direction int

const (
	ClientToServer Direction = iota // from the client to the target
	ServerToClient                  // from the target to the client
)

// String returns "client->server" or "server->client".
func (d Direction) String() string {
	switch d {
	case ClientToServer:
		return "client->server"
	case ServerToClient:
		return "server->client"
	}
	return "unknown"
}

// OnChunk sets fn to be called with the direction and size of each chunk the
// proxy forwards, on every connection, just before the chunk is written to
// the other side (so after any Delay; dropped chunks are not reported). fn is
// called from the proxy's goroutines, possibly concurrently, and must return
// quickly; nil removes it. A chunk is what one read returned, so its size
// says nothing of message boundaries.
func (p *Proxy) OnChunk(fn func(dir Direction, n int)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onChunk = fn
}

// Flights returns the number of client flights forwarded so far, over all
// connections: a flight is a burst of client->server bytes that follows
// server->client bytes (or starts the proxy's traffic). Requests pipelined
// before any answer are one flight, so with a client that waits for answers
// it counts round trips. Compare two readings to count the round trips of an
// operation.
func (p *Proxy) Flights() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.flights
}

// noteChunk counts a chunk about to be forwarded and reports it to OnChunk.
func (p *Proxy) noteChunk(dir Direction, n int) {
	p.mu.Lock()
	if dir == ClientToServer && (!p.anyChunk || p.lastDir != ClientToServer) {
		p.flights++
	}
	p.anyChunk = true
	p.lastDir = dir
	fn := p.onChunk
	p.mu.Unlock()
	if fn != nil {
		fn(dir, n)
	}
}
