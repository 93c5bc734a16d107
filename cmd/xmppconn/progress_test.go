package main

import (
	"os"
	"strings"
	"testing"
)

// TestProgress: on a terminal the line is rewritten in place and erased at
// the end; on anything else (a pipe here) nothing is written.
func TestProgress(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if isTerminal(w) {
		t.Fatal("a pipe taken for a terminal")
	}
	if p := newProgress(w, 3); p.w != nil {
		t.Fatal("a progress line on a pipe")
	}

	var b strings.Builder
	p := &progress{w: &b, total: 3} // as on a terminal
	p.started()
	p.started()
	p.finished(true, false)
	p.show()
	p.finished(false, false)
	p.show()
	p.clear()
	want := "\r\x1b[K0/3 done, 0 failed, 1 running" +
		"\r\x1b[K0/3 done, 0 failed, 2 running" +
		"\r\x1b[K1/3 done, 0 failed, 1 running" +
		"\r\x1b[K2/3 done, 1 failed, 0 running" +
		"\r\x1b[K"
	if b.String() != want {
		t.Errorf("progress wrote %q, want %q", b.String(), want)
	}
}
