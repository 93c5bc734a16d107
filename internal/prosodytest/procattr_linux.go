//go:build linux

package prosodytest

import "syscall"

// sysProcAttr puts prosody in its own process group (a Ctrl-C meant for the
// test binary reaches the harness, which stops prosody itself) and has the
// kernel kill it if the test binary dies without stopping it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
