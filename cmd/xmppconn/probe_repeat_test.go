package main

import (
	"strings"
	"testing"

	"github.com/xmppconn/xmppconn/internal/servertest"
)

// TestProbeRepeated runs probe --count against each server: one
// probe.result line per probe and a last probe.summary line with the
// percentiles of each phase and of the total (--json); the table of
// percentiles (text, where no progress line shows: the output is no
// terminal); and failures counted by error type.
func TestProbeRepeated(t *testing.T) { servertest.Each(t, testProbeRepeated) }

func testProbeRepeated(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	env := map[string]string{"XMPP_PW": pass, "WRONG_PW": pass + "-wrong"}
	login := []string{"--ca-file", s.CAFile, "--jid", user + "@" + s.Domain}

	t.Run("json", func(t *testing.T) {
		args := append([]string{"probe", "--json", "--count", "4", "--concurrency", "2", "--password-env", "XMPP_PW"}, login...)
		code, stdout, stderr := runProbe(t, env, append(args, s.WebSocketURL(true))...)
		if code != exitOK {
			t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		lines := jsonLines(t, stdout)
		if len(lines) != 5 {
			t.Fatalf("%d lines, want 4 probe.result and a probe.summary:\n%s", len(lines), stdout)
		}
		seen := map[float64]bool{}
		for _, l := range lines[:4] {
			if l["event"] != "probe.result" || l["elapsed_ms"] == nil {
				t.Errorf("line %v", l)
			}
			checkProbeResult(t, l, "websocket_upgrade")
			n, _ := l["probe"].(float64)
			seen[n] = true
		}
		if len(seen) != 4 || !seen[1] || !seen[4] {
			t.Errorf("probes numbered %v, want 1 to 4", seen)
		}
		sum := lines[4]
		if sum["event"] != "probe.summary" || sum["count"] != 4.0 || sum["connected"] != 4.0 || sum["elapsed_ms"] == nil {
			t.Fatalf("summary %v", sum)
		}
		if f, _ := sum["failures"].(map[string]any); len(f) != 0 {
			t.Errorf("failures %v", f)
		}
		phases, _ := sum["phases"].(map[string]any)
		for _, p := range []string{"connect", "tls", "websocket_upgrade", "stream_open", "sasl_1"} {
			st, _ := phases[p].(map[string]any)
			if st == nil || st["n"] != 4.0 {
				t.Errorf("phase %s: %v", p, st)
				continue
			}
			if !(st["p50_ms"].(float64) <= st["p90_ms"].(float64) && st["p90_ms"].(float64) <= st["p99_ms"].(float64) && st["p99_ms"].(float64) <= st["max_ms"].(float64)) {
				t.Errorf("phase %s: percentiles out of order: %v", p, st)
			}
		}
		for _, k := range []string{"total", "ping"} {
			if st, _ := sum[k].(map[string]any); st == nil || st["n"] != 4.0 || st["p50_ms"].(float64) <= 0 {
				t.Errorf("%s: %v", k, sum[k])
			}
		}
	})

	t.Run("text", func(t *testing.T) {
		args := append([]string{"probe", "--count", "3", "--concurrency", "3", "--interval", "10ms", "--password-env", "XMPP_PW"}, login...)
		code, stdout, stderr := runProbe(t, env, append(args, s.WebSocketURL(false))...)
		if code != exitOK {
			t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		for _, w := range []string{"3 probes of " + s.WebSocketURL(false) + ": 3 connected, 0 failed (concurrency 3)", "p50 ms", "sasl_1", "total", "ping"} {
			if !strings.Contains(stdout, w) {
				t.Errorf("stdout does not hold %q:\n%s", w, stdout)
			}
		}
		if stderr != "" {
			t.Errorf("stderr %q: no progress line when it is no terminal", stderr)
		}
	})

	t.Run("failures", func(t *testing.T) {
		args := append([]string{"probe", "--json", "--count", "2", "--password-env", "WRONG_PW", "--allow-plain"}, login...)
		code, stdout, _ := runProbe(t, env, append(args, s.WebSocketURL(false))...)
		if code != exitFailed {
			t.Errorf("exit %d, want %d", code, exitFailed)
		}
		lines := jsonLines(t, stdout)
		if len(lines) != 3 {
			t.Fatalf("%d lines:\n%s", len(lines), stdout)
		}
		if lines[0]["error"] != "connection.passwordRequired" || lines[0]["connected"] != false {
			t.Errorf("failed probe %v", lines[0])
		}
		f, _ := lines[2]["failures"].(map[string]any)
		if f["connection.passwordRequired"] != 2.0 || lines[2]["connected"] != 0.0 {
			t.Errorf("summary %v", lines[2])
		}
		if strings.Contains(stdout, env["WRONG_PW"]) {
			t.Error("output shows the password")
		}
	})
}

func TestProbeRepeatUsage(t *testing.T) {
	for _, args := range [][]string{
		{"probe", "--count", "-1", "wss://example.com/x"},
		{"probe", "--concurrency", "-2", "wss://example.com/x"},
		{"probe", "--interval", "-1s", "wss://example.com/x"},
	} {
		if code, _, stderr := runProbe(t, nil, args...); code != exitUsage || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}
