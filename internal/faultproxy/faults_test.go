package faultproxy

import (
	"errors"
	"io"
	"syscall"
	"testing"
	"time"
)

func TestCut(t *testing.T) {
	srv := newTestServer(t, false)
	p := startProxy(t, srv.addr())
	c := dial(t, p.Addr())
	sc := srv.next(t)
	write(t, c, "ping")
	expect(t, sc, "ping")

	p.Cut()
	if err := readErr(t, c); err != io.EOF {
		t.Fatalf("client read %v, want EOF", err)
	}
	if err := readErr(t, sc); err != io.EOF {
		t.Fatalf("server read %v, want EOF", err)
	}
	if p.Active() != 0 {
		t.Fatalf("Active %d after Cut", p.Active())
	}

	// New connections are forwarded.
	c2 := dial(t, p.Addr())
	write(t, c2, "again")
	expect(t, srv.next(t), "again")
	if p.Conns() != 2 {
		t.Fatalf("Conns %d, want 2", p.Conns())
	}
}

func TestReset(t *testing.T) {
	srv := newTestServer(t, false)
	p := startProxy(t, srv.addr())
	c := dial(t, p.Addr())
	sc := srv.next(t)
	write(t, c, "ping")
	expect(t, sc, "ping")

	p.Reset()
	if err := readErr(t, c); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("client read %v, want ECONNRESET", err)
	}
	if err := readErr(t, sc); err != io.EOF {
		t.Fatalf("server read %v, want EOF", err)
	}
	if p.Active() != 0 {
		t.Fatalf("Active %d after Reset", p.Active())
	}

	c2 := dial(t, p.Addr())
	write(t, c2, "again")
	expect(t, srv.next(t), "again")
}

func TestBlackholeAndRestore(t *testing.T) {
	srv := newTestServer(t, false)
	p := startProxy(t, srv.addr())
	old := dial(t, p.Addr())
	oldServer := srv.next(t)
	write(t, old, "before")
	expect(t, oldServer, "before")

	p.Blackhole()

	// An existing connection forwards nothing either way, and stays open.
	write(t, old, "lost")
	expectSilent(t, oldServer)
	write(t, oldServer, "lost too")
	expectSilent(t, old)

	// A new connection is accepted but never reaches the server.
	during := dial(t, p.Addr())
	if err := p.WaitConns(waitCtx(t), 2); err != nil {
		t.Fatal(err)
	}
	write(t, during, "nobody hears")
	expectSilent(t, during)
	if p.Active() != 2 {
		t.Fatalf("Active %d in blackhole, want 2", p.Active())
	}

	p.Restore()

	// New connections work; the server's next connection is the new one,
	// so the one dialed during the blackhole never reached it.
	after := dial(t, p.Addr())
	write(t, after, "after")
	expect(t, srv.next(t), "after")
	if got := srv.accepted.Load(); got != 2 {
		t.Fatalf("server accepted %d connections, want 2", got)
	}

	// Blackholed connections stay dead: the server side is closed, the
	// client side silent and open.
	if err := readErr(t, oldServer); err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("old server connection read %v, want it closed", err)
	}
	write(t, old, "still lost")
	expectSilent(t, old)
	expectSilent(t, during)

	// When the client gives up, the proxy forgets the connections.
	old.Close()
	during.Close()
	if err := p.WaitActive(waitCtx(t), 1); err != nil {
		t.Fatal(err)
	}
}

func TestCutInBlackhole(t *testing.T) {
	srv := newTestServer(t, true)
	p := startProxy(t, srv.addr())
	c := dial(t, p.Addr())
	roundTrip(t, c, "x")
	p.Blackhole()
	p.Cut()
	if err := readErr(t, c); err != io.EOF {
		t.Fatalf("client read %v, want EOF", err)
	}
	p.Restore()
	roundTrip(t, dial(t, p.Addr()), "y")
}

func TestDelay(t *testing.T) {
	const d = 50 * time.Millisecond
	srv := newTestServer(t, false)
	p := startProxy(t, srv.addr())
	c := dial(t, p.Addr()) // exists before the delay
	sc := srv.next(t)
	write(t, c, "0")
	expect(t, sc, "0")

	p.Delay(d)
	start := time.Now()
	for _, s := range []string{"a", "b", "c", "d", "e"} {
		write(t, c, s)
	}
	expect(t, sc, "abcde")
	if got := time.Since(start); got < d {
		t.Fatalf("client->server bytes arrived after %v, want at least %v", got, d)
	}

	start = time.Now()
	write(t, sc, "reply")
	expect(t, c, "reply")
	if got := time.Since(start); got < d {
		t.Fatalf("server->client bytes arrived after %v, want at least %v", got, d)
	}

	// A new connection is delayed too.
	c2 := dial(t, p.Addr())
	sc2 := srv.next(t)
	start = time.Now()
	write(t, c2, "new")
	expect(t, sc2, "new")
	if got := time.Since(start); got < d {
		t.Fatalf("new connection bytes arrived after %v, want at least %v", got, d)
	}
}

func TestDelayRemovedWakesWaitingChunks(t *testing.T) {
	srv := newTestServer(t, false)
	p := startProxy(t, srv.addr())
	p.Delay(time.Hour)
	c := dial(t, p.Addr())
	sc := srv.next(t)
	write(t, c, "first")
	write(t, c, "second")
	expectSilent(t, sc)
	p.Delay(0)
	expect(t, sc, "firstsecond")
	write(t, sc, "undelayed")
	expect(t, c, "undelayed")
}

func TestRefuse(t *testing.T) {
	srv := newTestServer(t, true)
	p := startProxy(t, srv.addr())
	old := dial(t, p.Addr())
	roundTrip(t, old, "before")

	p.Refuse()
	if err := readErr(t, old); err != io.EOF {
		t.Fatalf("existing connection read %v, want EOF", err)
	}
	for range 3 {
		expectRefused(t, p.Addr())
	}
	if p.Conns() != 4 || p.Active() != 0 {
		t.Fatalf("Conns %d Active %d, want 4 0", p.Conns(), p.Active())
	}

	p.Restore()
	roundTrip(t, dial(t, p.Addr()), "after")
	if got := srv.accepted.Load(); got != 2 {
		t.Fatalf("server accepted %d connections, want 2", got)
	}
}
