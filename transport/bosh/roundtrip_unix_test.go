//go:build unix

package bosh

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"testing"
)

// TestRoundTripperDropsClosedConnection: a kept-alive connection the server
// closed while it was idle is not used: the next request goes on a new one
// at once, instead of failing on the dead one.
func TestRoundTripperDropsClosedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer ln.Close()
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Each connection gets one answer that keeps it alive, then the
		// server closes it, as Prosody 13 does after a terminate.
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			req, err := http.ReadRequest(bufio.NewReader(c))
			if err == nil {
				_, _ = io.Copy(io.Discard, req.Body)
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}
			c.Close()
		}
	}()
	rt := newRoundTripper(&http.Transport{})
	defer rt.CloseIdleConnections()
	u := "http://" + ln.Addr().String()
	ctx := testCtx(t)
	post(t, rt, ctx, u)

	// Wait, without reading, until the server's end reaches the idle
	// connection.
	rt.mu.Lock()
	pc := rt.idle[u][0]
	rt.mu.Unlock()
	var b [1]byte
	err = pc.raw.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return err != syscall.EAGAIN
	})
	if err != nil {
		t.Fatal(err)
	}
	if alive(pc.raw) {
		t.Fatal("alive reports a connection the server closed")
	}
	if body, reused := post(t, rt, ctx, u); body != "ok" || reused {
		t.Errorf("after the server closed the idle connection: body %q, reused %v; want ok on a new connection", body, reused)
	}
}
