package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/xmppconn/xmppconn/xmppconn"
)

// summary gathers the results of repeated probes. The percentiles are
// taken over the probes that connected (a failed probe's phases stop where
// it failed, and its total is mostly the wait for a timeout); the failures
// are counted by error type.
type summary struct {
	count     int
	connected int
	failures  map[string]int
	phaseKeys []string // in the order they first came
	phases    map[string][]time.Duration
	total     []time.Duration
	ping      []time.Duration
}

// add counts one probe's result.
func (s *summary) add(r *probeResult) {
	s.count++
	if !r.connected() {
		if s.failures == nil {
			s.failures = map[string]int{}
		}
		s.failures[r.errorType()]++
		return
	}
	s.connected++
	if s.phases == nil {
		s.phases = map[string][]time.Duration{}
	}
	keys, d := phaseDurations(r.attempt)
	for _, k := range keys {
		if _, ok := s.phases[k]; !ok {
			s.phaseKeys = append(s.phaseKeys, k)
		}
		s.phases[k] = append(s.phases[k], d[k])
	}
	s.total = append(s.total, r.attempt.Total)
	if r.pingErr == nil {
		s.ping = append(s.ping, r.ping)
	}
}

// stats are the percentiles of a set of durations.
type stats struct {
	n                  int
	p50, p90, p99, max time.Duration
}

// statsOf returns the nearest-rank percentiles of ds (which it sorts).
func statsOf(ds []time.Duration) stats {
	slices.Sort(ds)
	return stats{n: len(ds), p50: percentile(ds, 50), p90: percentile(ds, 90), p99: percentile(ds, 99), max: percentile(ds, 100)}
}

// percentile returns the nearest-rank p-th percentile of sorted: the
// smallest value with at least p percent of the values at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// fields returns the stats as JSON fields.
func (st stats) fields() map[string]any {
	return map[string]any{"n": st.n, "p50_ms": ms(st.p50), "p90_ms": ms(st.p90), "p99_ms": ms(st.p99), "max_ms": ms(st.max)}
}

// summaryFields returns the fields of the probe.summary line.
func (s *summary) summaryFields(concurrency int) map[string]any {
	var phases orderedObject
	phases.vals = map[string]any{}
	for _, k := range s.phaseKeys {
		phases.set(k, statsOf(s.phases[k]).fields())
	}
	failures := map[string]int{}
	maps.Copy(failures, s.failures)
	return map[string]any{
		"count":       s.count,
		"connected":   s.connected,
		"failed":      s.count - s.connected,
		"failures":    failures,
		"concurrency": concurrency,
		"phases":      phases,
		"total":       statsOf(s.total).fields(),
		"ping":        statsOf(s.ping).fields(),
	}
}

// writeText writes the summary as a table of percentiles, then the
// failures by error type.
func (s *summary) writeText(w io.Writer, target string, concurrency int) {
	fmt.Fprintf(w, "\n%d probes of %s: %d connected, %d failed (concurrency %d)\n", s.count, target, s.connected, s.count-s.connected, concurrency)
	if s.connected > 0 {
		type row struct {
			name string
			st   stats
		}
		var rows []row
		for _, k := range s.phaseKeys {
			if k != xmppconn.PhaseSMEnable {
				rows = append(rows, row{k, statsOf(s.phases[k])})
			}
		}
		rows = append(rows, row{rowTotal, statsOf(s.total)})
		if d, ok := s.phases[xmppconn.PhaseSMEnable]; ok {
			rows = append(rows, row{xmppconn.PhaseSMEnable, statsOf(d)})
		}
		if len(s.ping) > 0 {
			rows = append(rows, row{rowPing, statsOf(s.ping)})
		}
		width := len("phase")
		for _, r := range rows {
			width = max(width, len(r.name))
		}
		fmt.Fprintf(w, "\n%-*s  %10s %10s %10s %10s %6s\n", width, "phase", "p50 ms", "p90 ms", "p99 ms", "max ms", "n")
		for _, r := range rows {
			fmt.Fprintf(w, "%-*s  %10.3f %10.3f %10.3f %10.3f %6d\n", width, r.name, ms(r.st.p50), ms(r.st.p90), ms(r.st.p99), ms(r.st.max), r.st.n)
		}
	}
	if len(s.failures) > 0 {
		fmt.Fprintln(w, "\nfailures")
		for _, k := range slices.Sorted(maps.Keys(s.failures)) {
			fmt.Fprintf(w, "  %-36s %6d\n", k, s.failures[k])
		}
	}
}
