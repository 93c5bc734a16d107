package bosh

import (
	"io"
	"net"
	"syscall"
	"testing"
)

// TestQuickAckDial checks that a connection from QuickAckDial is in
// quick-ack mode when it reads again after a read, and that a connection
// without a socket is left alone.
func TestQuickAckDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served, more := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(served)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.Write([]byte("<body/>"))
		<-more
		_, _ = c.Write([]byte("<b/>"))
		_, _ = io.Copy(io.Discard, c) // until the client closes
	}()
	c, err := QuickAckDial(nil)(testCtx(t), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*quickAckConn); !ok {
		t.Fatalf("QuickAckDial returned a %T, want a *quickAckConn", c)
	}
	quick := func(set int) int {
		t.Helper()
		var got int
		var gerr error
		err := c.(*quickAckConn).raw.Control(func(fd uintptr) {
			if set >= 0 {
				gerr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpQuickAck, set)
			}
			if gerr == nil {
				got, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpQuickAck)
			}
		})
		if err != nil || gerr != nil {
			t.Fatalf("TCP_QUICKACK: %v, %v", err, gerr)
		}
		return got
	}
	// Leave quick-ack mode, as an interactive connection does on its own.
	if got := quick(0); got != 0 {
		t.Fatalf("TCP_QUICKACK after setting 0 = %d", got)
	}
	buf := make([]byte, 7)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	// The next read waits for more after a read: what came is
	// acknowledged first.
	if got := quick(0); got != 0 {
		t.Fatalf("TCP_QUICKACK after setting 0 = %d", got)
	}
	close(more)
	if _, err := io.ReadFull(c, buf[:4]); err != nil {
		t.Fatal(err)
	}
	if got := quick(-1); got != 1 {
		t.Errorf("TCP_QUICKACK after a read that followed a read = %d, want 1", got)
	}
	c.Close()
	<-served

	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if quickAck(a) != a {
		t.Error("quickAck wrapped a connection that has no socket")
	}
}
