package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/xmppconn/xmppconn/events"
)

// printer writes one line per event, as text or JSON. It runs on the
// connection's event goroutine, one event at a time, and on the goroutines
// of repeated probes: a line is written whole, under mu.
type printer struct {
	mu    sync.Mutex
	w     io.Writer
	json  bool
	start time.Time // monotonic: taken before any DNS lookup, dial or request
}

// elapsedMS is the time since start in milliseconds, to the microsecond.
func (p *printer) elapsedMS() float64 {
	return float64(time.Since(p.start).Microseconds()) / 1000
}

func (p *printer) print(e events.Event) {
	ms := p.elapsedMS()
	if p.json {
		p.printJSON(e, ms)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%10.3f ms  %s%s\n", ms, e.Type(), describe(e))
}

// printFields writes one JSON line of the given fields with "event" and
// "elapsed_ms" added.
func (p *printer) printFields(event string, fields map[string]any) {
	fields["event"] = event
	fields["elapsed_ms"] = p.elapsedMS()
	b, err := json.Marshal(fields)
	if err != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = p.w.Write(append(b, '\n'))
}

// printText writes text as it is, whole.
func (p *printer) printText(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = io.WriteString(p.w, text)
}

// printJSON writes the event's payload fields with "event" and
// "elapsed_ms" added.
func (p *printer) printJSON(e events.Event, ms float64) {
	line := map[string]any{}
	if b, err := json.Marshal(e); err == nil {
		_ = json.Unmarshal(b, &line)
	}
	line["event"] = string(e.Type())
	line["elapsed_ms"] = ms
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	b = append(b, '\n')
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = p.w.Write(b)
}

// describe is the human-readable tail of a text line.
func describe(e events.Event) string {
	switch v := e.(type) {
	case events.StateChange:
		s := fmt.Sprintf("  %s -> %s", v.From, v.State)
		if v.Attempt > 0 {
			s += fmt.Sprintf(" (attempt %d)", v.Attempt)
		}
		if v.Reason != "" {
			s += ": " + string(v.Err) + ": " + v.Reason
		}
		if v.NextDelayMS > 0 {
			s += fmt.Sprintf("; next attempt in %s", time.Duration(v.NextDelayMS)*time.Millisecond)
		}
		return s
	case events.Established:
		s := "  jid=" + v.JID
		if v.Resumed {
			s += " resumed"
		}
		return s
	case events.Failed:
		return failedText(v)
	case events.Disconnected:
		if v.Message != "" {
			return "  " + v.Message
		}
	case events.Redirected:
		return fmt.Sprintf("  %s to %s (followed: %t)", v.Kind, v.Target, v.Followed)
	case events.TokenExpired:
		if v.Expires != "" {
			return "  expired " + v.Expires
		}
	}
	return ""
}

func failedText(f events.Failed) string {
	s := "  " + string(f.Err)
	if f.Reason != "" {
		s += ": " + f.Reason
	}
	if c := f.Details.Condition; c != "" && c != f.Reason {
		s += " (condition " + c + ")"
	}
	return s
}
