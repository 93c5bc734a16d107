//go:build linux

package servertest

import "syscall"

// sysProcAttr puts the server in its own process group (a Ctrl-C meant for the
// test binary reaches the harness, which stops the server itself) and has the
// kernel kill it if the test binary dies without stopping it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
