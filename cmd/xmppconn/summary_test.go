package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/xmppconn"
)

func TestPercentile(t *testing.T) {
	ms := func(vs ...int) []time.Duration {
		var out []time.Duration
		for _, v := range vs {
			out = append(out, time.Duration(v)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	cases := []struct {
		name               string
		values             []time.Duration
		p50, p90, p99, max time.Duration
	}{
		{"none", nil, 0, 0, 0, 0},
		{"one", ms(7), 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond},
		{"two", ms(9, 1), time.Millisecond, 9 * time.Millisecond, 9 * time.Millisecond, 9 * time.Millisecond},
		{"ten", ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), 5 * time.Millisecond, 9 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond},
		{"a hundred", ms(hundred...), 50 * time.Millisecond, 90 * time.Millisecond, 99 * time.Millisecond, 100 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := statsOf(tc.values)
			got := []time.Duration{st.p50, st.p90, st.p99, st.max}
			want := []time.Duration{tc.p50, tc.p90, tc.p99, tc.max}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("p50, p90, p99, max (-want +got):\n%s", diff)
			}
		})
	}
}

// attemptOf is a connected attempt with the given phases, in milliseconds.
func attemptOf(phases ...any) xmppconn.Attempt {
	var a xmppconn.Attempt
	for i := 0; i < len(phases); i += 2 {
		d := time.Duration(phases[i+1].(int)) * time.Millisecond
		name, step := phases[i].(string), 0
		if name == "sasl_1" || name == "sasl_2" {
			name, step = "sasl", int(phases[i].(string)[5]-'0')
		}
		a.Phases = append(a.Phases, xmppconn.Phase{Name: name, Step: step, Start: a.Total, Duration: d})
		a.Total += d
	}
	a.Connected = true
	return a
}

// TestSummary: the percentiles are those of the probes that connected, per
// phase in the order the phases came, and the failures are counted by
// error type.
func TestSummary(t *testing.T) {
	var s summary
	for i := 1; i <= 4; i++ {
		a := attemptOf("connect", i, "sasl_1", 10*i, "bind", 1)
		a.SMEnable = time.Duration(i) * time.Millisecond
		s.add(&probeResult{index: i, attempt: a, ping: 2 * time.Millisecond})
	}
	s.add(&probeResult{index: 5, attempt: attemptOf("connect", 500), failure: &events.Failed{Err: events.PasswordRequired}})
	s.add(&probeResult{index: 6, failure: &events.Failed{Err: events.OtherError}})
	s.add(&probeResult{index: 7, failure: &events.Failed{Err: events.PasswordRequired}})
	b, err := json.Marshal(s.summaryFields(2))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"concurrency":2,"connected":4,"count":7,"failed":3,` +
		`"failures":{"connection.otherError":1,"connection.passwordRequired":2},` +
		`"phases":{"connect":{"max_ms":4,"n":4,"p50_ms":2,"p90_ms":4,"p99_ms":4},` +
		`"sasl_1":{"max_ms":40,"n":4,"p50_ms":20,"p90_ms":40,"p99_ms":40},` +
		`"bind":{"max_ms":1,"n":4,"p50_ms":1,"p90_ms":1,"p99_ms":1},` +
		`"sm_enable":{"max_ms":4,"n":4,"p50_ms":2,"p90_ms":4,"p99_ms":4}},` +
		`"ping":{"max_ms":2,"n":4,"p50_ms":2,"p90_ms":2,"p99_ms":2},` +
		`"total":{"max_ms":45,"n":4,"p50_ms":23,"p90_ms":45,"p99_ms":45}}`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	var text strings.Builder
	s.writeText(&text, "wss://example.com/x", 2)
	for _, w := range []string{
		"7 probes of wss://example.com/x: 4 connected, 3 failed (concurrency 2)",
		"phase          p50 ms     p90 ms     p99 ms     max ms      n",
		"sasl_1         20.000     40.000     40.000     40.000      4",
		"total          23.000     45.000     45.000     45.000      4",
		"connection.passwordRequired               2",
	} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("summary text does not hold %q:\n%s", w, text.String())
		}
	}
	if strings.Index(text.String(), "sm_enable") < strings.Index(text.String(), "total") {
		t.Errorf("sm_enable before the total:\n%s", text.String())
	}
}

// TestResultOutput: one probe's phases as a table and as ordered JSON
// fields, what the server offered, TLS and the Jitsi properties.
func TestResultOutput(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := attemptOf("connect", 1, "tls", 3, "websocket_upgrade", 2, "stream_open", 1, "sasl_1", 5, "sasl_2", 2, "stream_restart", 1, "bind", 1)
	a.SMEnable = time.Millisecond
	a.Transport, a.Endpoint = "websocket", "wss://meet.example.com/xmpp-websocket"
	a.Offered = xmppconn.Offered{Mechanisms: []string{"SCRAM-SHA-1", "PLAIN"}, StreamManagement: true}
	a.Mechanism = "SCRAM-SHA-1"
	a.TLS = xmppconn.TLSInfo{Version: 0x0304, EarliestCertExpiry: now.Add(90 * 24 * time.Hour)}
	r := probeResult{attempt: a, jid: "probe@example.com/r", ping: 3 * time.Millisecond,
		properties: map[string]string{"shard": "s1", "region": "eu", "release": "123"}}

	var text strings.Builder
	writeResultText(&text, &r, now)
	want := `
phase                      ms
connect                 1.000
tls                     3.000
websocket_upgrade       2.000
stream_open             1.000
sasl_1                  5.000
sasl_2                  2.000
stream_restart          1.000
bind                    1.000
total                  16.000
sm_enable               1.000  after CONNECTED, not in the total
ping                    3.000  XEP-0199 round trip

transport  websocket wss://meet.example.com/xmpp-websocket
offered    SASL: SCRAM-SHA-1 PLAIN; SASL2: no; Bind 2: no; stream management: yes
mechanism  SCRAM-SHA-1
tls        TLS 1.3, earliest certificate expiry 2026-04-01T00:00:00Z (in 90 days)
jitsi      region=eu release=123 shard=s1
`
	if diff := cmp.Diff(want, text.String()); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}

	b, err := json.Marshal(resultFields(&r))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		`"phases_ms":{"connect":1,"tls":3,"websocket_upgrade":2,"stream_open":1,"sasl_1":5,"sasl_2":2,"stream_restart":1,"bind":1,"sm_enable":1}`,
		`"mechanism":"SCRAM-SHA-1"`, `"connected":true`, `"total_ms":16`, `"ping_ms":3`, `"tls_version":"TLS 1.3"`,
		`"cert_expiry":"2026-04-01T00:00:00Z"`, `"properties":{"region":"eu","release":"123","shard":"s1"}`,
		`"offered":{"bind2":false,"channel_binding":[],"mechanisms":["SCRAM-SHA-1","PLAIN"],"sasl2":false,"sasl2_mechanisms":[],"stream_management":true}`,
	} {
		if !strings.Contains(string(b), w) {
			t.Errorf("JSON %s does not hold %s", b, w)
		}
	}
}
