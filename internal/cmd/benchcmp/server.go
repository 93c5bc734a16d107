package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Linux reports a process's CPU time in clock ticks (USER_HZ, 100 on every
// Linux architecture Go supports) and its resident set in pages.
const (
	clockTick = 10 * time.Millisecond
)

// serverUsage is one reading of the server process's cost: CPU time
// (user+system) and resident memory.
type serverUsage struct {
	cpu time.Duration
	rss int64 // bytes
}

// readServer reads /proc/PID/stat of the server: utime and stime (fields 14
// and 15, in clock ticks) and rss (field 24, in pages). The fields are
// counted after the command name, which is in parentheses and may hold
// spaces. The kernel keeps the CPU time in nanoseconds and reports it
// rounded down to a tick, so one reading is exact to 10 ms: a per-connect
// figure is the sum over many connects, where the rounding averages out.
func readServer(pid int) (serverUsage, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return serverUsage{}, fmt.Errorf("server usage: %w", err)
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return serverUsage{}, fmt.Errorf("server usage: malformed /proc/%d/stat", pid)
	}
	// After ") " comes field 3 (state); field n is at index n-3.
	f := bytes.Fields(data[i+1:])
	if len(f) < 22 {
		return serverUsage{}, fmt.Errorf("server usage: short /proc/%d/stat", pid)
	}
	num := func(field int) (int64, error) {
		return strconv.ParseInt(string(f[field-3]), 10, 64)
	}
	utime, err1 := num(14)
	stime, err2 := num(15)
	rss, err3 := num(24)
	if err1 != nil || err2 != nil || err3 != nil {
		return serverUsage{}, fmt.Errorf("server usage: malformed /proc/%d/stat", pid)
	}
	return serverUsage{
		cpu: time.Duration(utime+stime) * clockTick,
		rss: rss * int64(os.Getpagesize()),
	}, nil
}

// serverState returns the scheduler state of the server (field 3 of
// /proc/PID/stat: 'R' running, 'S' sleeping, …), or 0 when it cannot be
// read.
func serverState(pid int) byte {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return 0
	}
	return data[i+2]
}

// waitServerIdle waits until the server sleeps (blocked waiting for I/O)
// at several readings in a row, at most max: so that the work a close left
// it (reading the end of the stream, destroying the session) is counted
// in the sample that caused it, not in the next client's.
func waitServerIdle(pid int, max time.Duration) {
	deadline := time.Now().Add(max)
	asleep := 0
	for asleep < 3 && time.Now().Before(deadline) {
		if serverState(pid) == 'S' {
			asleep++
		} else {
			asleep = 0
		}
		time.Sleep(200 * time.Microsecond)
	}
}
