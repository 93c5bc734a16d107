//go:build !linux

package servertest

import "syscall"

// sysProcAttr returns the platform's defaults: Pdeathsig is Linux only.
func sysProcAttr() *syscall.SysProcAttr { return nil }
