package bosh

import (
	"net"
	"syscall"
)

// tcpQuickAck is TCP_QUICKACK of linux/tcp.h (not in package syscall).
const tcpQuickAck = 0xc

// quickAckConn sets TCP_QUICKACK after every read: Linux leaves quick-ack
// mode again on its own, so once is not enough.
type quickAckConn struct {
	net.Conn
	raw syscall.RawConn
}

func quickAck(c net.Conn) net.Conn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	return &quickAckConn{Conn: c, raw: raw}
}

// Read reads, then asks the kernel to acknowledge what came without delay.
func (q *quickAckConn) Read(b []byte) (int, error) {
	n, err := q.Conn.Read(b)
	if n > 0 {
		_ = q.raw.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpQuickAck, 1)
		})
	}
	return n, err
}

// SyscallConn returns the raw connection, for the pool's liveness check.
func (q *quickAckConn) SyscallConn() (syscall.RawConn, error) { return q.raw, nil }
