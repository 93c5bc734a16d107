package xmpptest

import (
	"context"
	"errors"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xmppconn/xmppconn/xmppconn"
)

// Mem is one reading of the test process's memory, taken after full
// collections with the freed memory returned to the OS.
type Mem struct {
	RSS        uint64 // resident set, from /proc/self/statm
	Heap       uint64 // Go heap objects (HeapAlloc)
	Spans      uint64 // heap spans in use: the objects plus the free room in their spans (HeapInuse)
	Stack      uint64 // goroutine stacks (StackInuse)
	Goroutines int
}

// ReadMem collects garbage, returns freed memory to the OS and reads the
// process's memory. Where /proc/self/statm cannot be read it returns the
// rest, RSS 0, and the error.
func ReadMem() (Mem, error) {
	for range 4 {
		runtime.GC()
	}
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := Mem{Heap: ms.HeapAlloc, Spans: ms.HeapInuse, Stack: ms.StackInuse, Goroutines: runtime.NumGoroutine()}
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return m, err
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return m, errors.New("xmpptest: /proc/self/statm: too few fields")
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return m, err
	}
	m.RSS = pages * uint64(os.Getpagesize())
	return m, nil
}

// DisconnectAll disconnects every Connection of conns (nil ones are
// skipped), 32 at a time, each bounded by timeout: the end of a test that
// held many sessions.
func DisconnectAll(conns []*xmppconn.Connection, timeout time.Duration) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for _, c := range conns {
		if c == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			_ = c.Disconnect(ctx)
		}()
	}
	wg.Wait()
}
