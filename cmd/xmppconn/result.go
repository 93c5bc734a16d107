package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/xmppconn/xmppconn/xmppconn"
)

// Event names of the lines probe adds to the connection events.
const (
	eventProbeResult  = "probe.result"
	eventProbeSummary = "probe.summary"
)

// Rows of the phase table besides the attempt's phases.
const (
	rowTotal = "total"
	rowPing  = "ping"
)

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// phaseDurations returns the time of each phase of a, by Phase.Key in the
// order they came (a phase the transport repeated counts once, summed),
// with the XEP-0198 <enable/> round trip last when it was measured.
func phaseDurations(a xmppconn.Attempt) ([]string, map[string]time.Duration) {
	var keys []string
	d := map[string]time.Duration{}
	for _, p := range a.Phases {
		k := p.Key()
		if _, ok := d[k]; !ok {
			keys = append(keys, k)
		}
		d[k] += p.Duration
	}
	if a.SMEnable > 0 {
		keys = append(keys, xmppconn.PhaseSMEnable)
		d[xmppconn.PhaseSMEnable] = a.SMEnable
	}
	return keys, d
}

// orderedObject is a JSON object whose keys keep the order they were set
// in (encoding/json sorts a map's).
type orderedObject struct {
	keys []string
	vals map[string]any
}

func (o *orderedObject) set(key string, v any) {
	if o.vals == nil {
		o.vals = map[string]any{}
	}
	if _, ok := o.vals[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = v
}

// MarshalJSON writes the keys in order.
func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// resultFields returns the fields of a probe.result line (without event
// and elapsed_ms).
func resultFields(r *probeResult) map[string]any {
	a := r.attempt
	line := map[string]any{
		"connected": r.connected(),
		"total_ms":  ms(a.Total),
		"transport": a.Transport,
		"endpoint":  a.Endpoint,
		"mechanism": a.Mechanism,
		"sasl2":     a.SASL2,
		"bind2":     a.Bind2,
		"offered": map[string]any{
			"mechanisms":        nonNil(a.Offered.Mechanisms),
			"sasl2":             a.Offered.SASL2,
			"sasl2_mechanisms":  nonNil(a.Offered.SASL2Mechanisms),
			"bind2":             a.Offered.Bind2,
			"stream_management": a.Offered.StreamManagement,
			"channel_binding":   nonNil(a.Offered.ChannelBinding),
		},
	}
	if r.index > 0 {
		line["probe"] = r.index
	}
	keys, d := phaseDurations(a)
	var phases orderedObject
	phases.vals = map[string]any{}
	for _, k := range keys {
		phases.set(k, ms(d[k]))
	}
	line["phases_ms"] = phases
	if r.failure != nil {
		line["error"] = string(r.failure.Err)
		line["reason"] = r.failure.Reason
	} else {
		line["jid"] = r.jid
		if r.pingErr == nil {
			line["ping_ms"] = ms(r.ping)
		} else {
			line["ping_error"] = r.pingErr.Error()
		}
	}
	if a.TLS.Version != 0 {
		line["tls_version"] = tls.VersionName(a.TLS.Version)
		if !a.TLS.EarliestCertExpiry.IsZero() {
			line["cert_expiry"] = a.TLS.EarliestCertExpiry.UTC().Format(time.RFC3339)
		}
	}
	if r.properties != nil {
		line["properties"] = r.properties
	}
	return line
}

// nonNil makes a nil list an empty JSON array.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// writeResultText writes a probe's phases as an aligned table, then what
// the server offered, the mechanism, TLS and the Jitsi properties.
func writeResultText(w io.Writer, r *probeResult, now time.Time) {
	a := r.attempt
	keys, d := phaseDurations(a)
	type row struct {
		name string
		d    time.Duration
		note string
	}
	var rows []row
	for _, k := range keys {
		if k != xmppconn.PhaseSMEnable {
			rows = append(rows, row{k, d[k], ""})
		}
	}
	rows = append(rows, row{rowTotal, a.Total, ""})
	if v, ok := d[xmppconn.PhaseSMEnable]; ok {
		rows = append(rows, row{xmppconn.PhaseSMEnable, v, "after CONNECTED, not in the total"})
	}
	if r.connected() && r.pingErr == nil {
		rows = append(rows, row{rowPing, r.ping, "XEP-0199 round trip"})
	}
	width := len("phase")
	for _, x := range rows {
		width = max(width, len(x.name))
	}
	fmt.Fprintf(w, "\n%-*s  %10s\n", width, "phase", "ms")
	for _, x := range rows {
		line := fmt.Sprintf("%-*s  %10.3f", width, x.name, ms(x.d))
		if x.note != "" {
			line += "  " + x.note
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w)
	if a.Transport != "" {
		fmt.Fprintf(w, "%-10s %s %s\n", "transport", a.Transport, a.Endpoint)
	}
	if o := a.Offered; o.Mechanisms != nil || o.SASL2 {
		fmt.Fprintf(w, "%-10s %s\n", "offered", offeredText(o))
	}
	if a.Mechanism != "" {
		m := a.Mechanism
		if a.SASL2 {
			m += " (SASL2"
			if a.Bind2 {
				m += ", Bind 2"
			}
			m += ")"
		}
		fmt.Fprintf(w, "%-10s %s\n", "mechanism", m)
	}
	if a.TLS.Version != 0 {
		t := tls.VersionName(a.TLS.Version)
		if e := a.TLS.EarliestCertExpiry; !e.IsZero() {
			t += fmt.Sprintf(", earliest certificate expiry %s (%s)", e.UTC().Format(time.RFC3339), untilText(e.Sub(now)))
		}
		fmt.Fprintf(w, "%-10s %s\n", "tls", t)
	}
	if r.connected() && r.pingErr != nil {
		fmt.Fprintf(w, "%-10s no answer: %v\n", "ping", r.pingErr)
	}
	if len(r.properties) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(r.properties)) {
			parts = append(parts, k+"="+r.properties[k])
		}
		fmt.Fprintf(w, "%-10s %s\n", "jitsi", strings.Join(parts, " "))
	}
}

// offeredText says what the server offered, in one line.
func offeredText(o xmppconn.Offered) string {
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	s := "SASL: " + strings.Join(o.Mechanisms, " ")
	if len(o.Mechanisms) == 0 {
		s = "SASL: none"
	}
	if o.SASL2 {
		s += "; SASL2: " + strings.Join(o.SASL2Mechanisms, " ")
	} else {
		s += "; SASL2: no"
	}
	s += "; Bind 2: " + yes(o.Bind2) + "; stream management: " + yes(o.StreamManagement)
	if len(o.ChannelBinding) > 0 {
		s += "; channel binding: " + strings.Join(o.ChannelBinding, " ")
	}
	return s
}

// untilText says how far away a time d ahead is: in days beyond two, else
// in hours and minutes; "expired" when it is past.
func untilText(d time.Duration) string {
	switch {
	case d <= 0:
		return "expired"
	case d >= 48*time.Hour:
		return fmt.Sprintf("in %d days", int(d/(24*time.Hour)))
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("in %dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}
