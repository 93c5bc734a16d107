package bosh

import (
	"net"
	"sync/atomic"
	"syscall"
)

// tcpQuickAck is TCP_QUICKACK of linux/tcp.h (not in package syscall).
const tcpQuickAck = 0xc

// quickAckConn sets TCP_QUICKACK before a read that follows a read with
// no write between them: what came is then acknowledged before the
// connection waits for more. Linux leaves quick-ack mode again on its own,
// so once is not enough; but a read that follows a write needs nothing,
// since the write carried the acknowledgement, and that is most reads of
// BOSH, whose answers mostly come in one piece: the system call saved is a
// few percent of a request's CPU.
type quickAckConn struct {
	net.Conn
	raw      syscall.RawConn
	readLast atomic.Bool // the last call that moved bytes was a read
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

// Read asks the kernel to acknowledge at once what came since the last
// write, if anything did, then reads.
func (q *quickAckConn) Read(b []byte) (int, error) {
	if q.readLast.Load() {
		_ = q.raw.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpQuickAck, 1)
		})
	}
	n, err := q.Conn.Read(b)
	if n > 0 {
		q.readLast.Store(true)
	}
	return n, err
}

// Write writes; the acknowledgement of what came goes with it.
func (q *quickAckConn) Write(b []byte) (int, error) {
	q.readLast.Store(false)
	return q.Conn.Write(b)
}
