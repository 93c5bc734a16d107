package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestStartEmptyTarget(t *testing.T) {
	if _, err := Start(""); err == nil {
		t.Fatal("Start(\"\") succeeded")
	}
}

func TestAddrPort(t *testing.T) {
	p := startProxy(t, "127.0.0.1:1")
	host, port, err := net.SplitHostPort(p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if host != "127.0.0.1" || port != strconv.Itoa(p.Port()) || p.Port() == 0 {
		t.Fatalf("Addr %q, Port %d", p.Addr(), p.Port())
	}
	if p.Target() != "127.0.0.1:1" {
		t.Fatalf("Target %q", p.Target())
	}
}

func TestForward(t *testing.T) {
	srv := newTestServer(t, true)
	p := startProxy(t, srv.addr())
	c := dial(t, p.Addr())
	roundTrip(t, c, "hello")
	roundTrip(t, c, "again")
	if p.Conns() != 1 || p.Active() != 1 {
		t.Fatalf("Conns %d Active %d, want 1 1", p.Conns(), p.Active())
	}
	c.Close()
	if err := p.WaitActive(waitCtx(t), 0); err != nil {
		t.Fatal(err)
	}
	if p.Conns() != 1 {
		t.Fatalf("Conns %d after close, want 1", p.Conns())
	}
}

func TestForwardLarge(t *testing.T) {
	srv := newTestServer(t, true)
	p := startProxy(t, srv.addr())
	c := dial(t, p.Addr())
	want := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB, many chunks
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(want)
		errc <- err
	}()
	c.SetReadDeadline(time.Now().Add(waitLimit))
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("echoed bytes differ")
	}
}

func TestHalfClose(t *testing.T) {
	srv := newTestServer(t, false)
	p := startProxy(t, srv.addr())
	c := dial(t, p.Addr())
	write(t, c, "request")
	sc := srv.next(t)
	expect(t, sc, "request")
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if err := readErr(t, sc); err != io.EOF {
		t.Fatalf("server read %v, want EOF", err)
	}
	// The other direction still works.
	write(t, sc, "response")
	expect(t, c, "response")
	sc.Close()
	if err := readErr(t, c); err != io.EOF {
		t.Fatalf("client read %v, want EOF", err)
	}
	if err := p.WaitActive(waitCtx(t), 0); err != nil {
		t.Fatal(err)
	}
}

func TestServerCloses(t *testing.T) {
	srv := newTestServer(t, false)
	p := startProxy(t, srv.addr())
	c := dial(t, p.Addr())
	sc := srv.next(t)
	write(t, sc, "bye")
	sc.Close()
	expect(t, c, "bye")
	if err := readErr(t, c); err != io.EOF {
		t.Fatalf("client read %v, want EOF", err)
	}
}

func TestTargetDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := ln.Addr().String()
	ln.Close()
	p := startProxy(t, target)
	expectRefused(t, p.Addr())
	if err := p.WaitActive(waitCtx(t), 0); err != nil {
		t.Fatal(err)
	}
	if p.Conns() != 1 {
		t.Fatalf("Conns %d, want 1", p.Conns())
	}
}

func TestConcurrentConns(t *testing.T) {
	const clients, messages = 40, 20
	srv := newTestServer(t, true)
	p := startProxy(t, srv.addr())
	conns := make([]*net.TCPConn, clients)
	for i := range conns {
		conns[i] = dial(t, p.Addr())
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetDeadline(time.Now().Add(waitLimit))
			for j := range messages {
				msg := []byte(fmt.Sprintf("client %d message %d;", i, j))
				if _, err := c.Write(msg); err != nil {
					errs <- err
					return
				}
				got := make([]byte, len(msg))
				if _, err := io.ReadFull(c, got); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, msg) {
					errs <- fmt.Errorf("client %d read %q, want %q", i, got, msg)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p.Conns() != clients || p.Active() != clients {
		t.Fatalf("Conns %d Active %d, want %d", p.Conns(), p.Active(), clients)
	}
	p.Cut()
	for _, c := range conns {
		if err := readErr(t, c); err != io.EOF {
			t.Fatalf("client read %v, want EOF", err)
		}
	}
	if p.Active() != 0 {
		t.Fatalf("Active %d after Cut, want 0", p.Active())
	}
}

func TestClose(t *testing.T) {
	srv := newTestServer(t, false)
	p, err := Start(srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	// One forwarding connection with a chunk held by a long delay, one
	// blackholed connection, one accepted during the blackhole.
	held := dial(t, p.Addr())
	sc := srv.next(t)
	p.Delay(time.Hour)
	write(t, held, "held")
	black := dial(t, p.Addr())
	srv.next(t)
	if err := p.WaitConns(waitCtx(t), 2); err != nil {
		t.Fatal(err)
	}
	p.Blackhole()
	late := dial(t, p.Addr())
	if err := p.WaitConns(waitCtx(t), 3); err != nil {
		t.Fatal(err)
	}

	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if p.Active() != 0 {
		t.Fatalf("Active %d after Close", p.Active())
	}
	for i, c := range []net.Conn{held, black, late} {
		err := readErr(t, c)
		// held wrote a chunk: when Close comes before the proxy read it, the
		// kernel answers the unread bytes with RST (see Cut).
		if err != io.EOF && !(i == 0 && errors.Is(err, syscall.ECONNRESET)) {
			t.Fatalf("client %d read %v, want EOF", i, err)
		}
	}
	if err := readErr(t, sc); err != io.EOF {
		t.Fatalf("server read %v, want EOF", err)
	}
	if c, err := net.Dial("tcp", p.Addr()); err == nil {
		c.Close()
		t.Fatal("dial after Close succeeded")
	}
}

func TestWaitGivesUp(t *testing.T) {
	p := startProxy(t, "127.0.0.1:1")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.WaitConns(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitConns: %v, want context.Canceled", err)
	}
	if err := p.WaitActive(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitActive: %v, want context.Canceled", err)
	}
	if err := p.WaitActive(ctx, 0); err != nil {
		t.Fatalf("WaitActive(0) on an idle proxy: %v", err)
	}
}
