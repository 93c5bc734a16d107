package main

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// progress is the live line of repeated probes, on a terminal only:
// "37/100 done, 1 failed, 4 running", rewritten in place. When its writer
// is not a terminal (a file, a pipe, a test's buffer), it writes nothing.
type progress struct {
	w     io.Writer // nil: not a terminal
	total int

	mu                    sync.Mutex
	running, done, failed int
	shown                 bool
}

// newProgress returns the progress line of total probes on w.
func newProgress(w io.Writer, total int) *progress {
	p := &progress{total: total}
	if isTerminal(w) {
		p.w = w
	}
	return p
}

// isTerminal reports whether w is a character device, as a terminal is.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// started counts a probe that began.
func (p *progress) started() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running++
	p.showLocked()
}

// finished counts a probe that ended; a cut one (interrupted) is not done.
func (p *progress) finished(ok, cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running--
	if !cut {
		p.done++
		if !ok {
			p.failed++
		}
	}
}

// show writes the line again.
func (p *progress) show() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.showLocked()
}

func (p *progress) showLocked() {
	if p.w == nil {
		return
	}
	fmt.Fprintf(p.w, "\r\x1b[K%d/%d done, %d failed, %d running", p.done, p.total, p.failed, p.running)
	p.shown = true
}

// clear erases the line, so that other output starts on a clean one.
func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w != nil && p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}
