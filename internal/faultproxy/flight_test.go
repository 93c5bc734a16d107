package faultproxy

import (
	"sync"
	"testing"
)

func TestDirectionString(t *testing.T) {
	tests := []struct {
		dir  Direction
		want string
	}{
		{ClientToServer, "client->server"},
		{ServerToClient, "server->client"},
		{Direction(7), "unknown"},
	}
	for _, tt := range tests {
		if got := tt.dir.String(); got != tt.want {
			t.Errorf("Direction(%d).String() = %q, want %q", tt.dir, got, tt.want)
		}
	}
}

func TestFlightsAndOnChunk(t *testing.T) {
	srv := newTestServer(t, false)
	p := startProxy(t, srv.addr())
	var mu sync.Mutex
	bytes := map[Direction]int{}
	p.OnChunk(func(dir Direction, n int) {
		mu.Lock()
		bytes[dir] += n
		mu.Unlock()
	})
	total := func(dir Direction) int {
		mu.Lock()
		defer mu.Unlock()
		return bytes[dir]
	}

	c := dial(t, p.Addr())
	sc := srv.next(t)
	if p.Flights() != 0 {
		t.Fatalf("Flights %d before any byte", p.Flights())
	}

	// Two client bursts with no answer between them: one flight.
	write(t, c, "a")
	expect(t, sc, "a")
	write(t, c, "bb")
	expect(t, sc, "bb")
	if p.Flights() != 1 {
		t.Fatalf("Flights %d after pipelined requests, want 1", p.Flights())
	}

	// An answer, then a request on another connection: a second flight.
	write(t, sc, "x")
	expect(t, c, "x")
	c2 := dial(t, p.Addr())
	sc2 := srv.next(t)
	write(t, c2, "ccc")
	expect(t, sc2, "ccc")
	if p.Flights() != 2 {
		t.Fatalf("Flights %d after a round trip, want 2", p.Flights())
	}
	if got, want := total(ClientToServer), 6; got != want {
		t.Fatalf("client->server bytes %d, want %d", got, want)
	}
	if got, want := total(ServerToClient), 1; got != want {
		t.Fatalf("server->client bytes %d, want %d", got, want)
	}

	// Dropped bytes are neither reported nor counted.
	p.Blackhole()
	write(t, sc, "y")
	write(t, c, "dropped")
	expectSilent(t, sc)
	if p.Flights() != 2 || total(ClientToServer) != 6 || total(ServerToClient) != 1 {
		t.Fatalf("blackholed bytes counted: Flights %d, bytes %d %d", p.Flights(), total(ClientToServer), total(ServerToClient))
	}

	p.OnChunk(nil)
	p.Restore()
	roundTripThrough(t, p, srv)
	if total(ClientToServer) != 6 {
		t.Fatal("OnChunk(nil) did not remove the callback")
	}
}

// roundTripThrough sends a request and its answer through a new connection.
func roundTripThrough(t *testing.T, p *Proxy, srv *testServer) {
	t.Helper()
	c := dial(t, p.Addr())
	write(t, c, "req")
	sc := srv.next(t)
	expect(t, sc, "req")
	write(t, sc, "resp")
	expect(t, c, "resp")
}
