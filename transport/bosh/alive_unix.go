//go:build unix

package bosh

import "syscall"

// alive reports whether the idle TCP connection under raw may carry a
// request: the server has neither closed it nor sent anything on it (what
// it would send unasked is the end of the connection, or garbage). It peeks
// without waiting; nil raw (not a TCP connection) counts as alive.
func alive(raw syscall.RawConn) bool {
	if raw == nil {
		return true
	}
	ok := false
	var b [1]byte
	err := raw.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		ok = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
		return true
	})
	return err == nil && ok
}
