package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/internal/servertest"
)

func TestMain(m *testing.M) { servertest.Main(m, nil) }

// runProbe runs the command in-process with env as its environment.
func runProbe(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code = run(ctx, args, &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	env := map[string]string{"PW": "s3cret-pw"}
	cases := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"no command", nil, "usage"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"no URL", []string{"probe"}, "exactly one URL"},
		{"two URLs", []string{"probe", "ws://a/x", "ws://b/x"}, "exactly one URL"},
		{"bad scheme", []string{"probe", "ftp://example.com/"}, "unsupported URL scheme"},
		{"not a URL nor a domain", []string{"probe", "example.com/path"}, "not a URL"},
		{"token and jid", []string{"probe", "--jid", "a@example.com", "--password-env", "PW", "--token-env", "TOK", "wss://example.com/x"}, "exclude each other"},
		{"empty token env", []string{"probe", "--token-env", "NOPE", "wss://example.com/x"}, "NOPE is empty"},
		{"jid without password", []string{"probe", "--jid", "a@example.com", "wss://example.com/x"}, "--password-env"},
		{"empty password env", []string{"probe", "--jid", "a@example.com", "--password-env", "NOPE", "wss://example.com/x"}, "NOPE is empty"},
		{"password without jid", []string{"probe", "--password-env", "PW", "wss://example.com/x"}, "needs --jid"},
		{"bad jid", []string{"probe", "--jid", "@@", "--password-env", "PW", "wss://example.com/x"}, "not a JID"},
		{"unknown flag", []string{"probe", "--password", "x", "wss://example.com/x"}, "flag provided but not defined"},
		{"missing ca file", []string{"probe", "--ca-file", "/nonexistent.pem", "wss://example.com/x"}, "--ca-file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runProbe(t, env, tc.args...)
			if code != exitUsage {
				t.Errorf("exit status %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not mention %q", stderr, tc.want)
			}
			if strings.Contains(stdout+stderr, "s3cret-pw") {
				t.Error("output shows the password")
			}
		})
	}
}

func TestHelp(t *testing.T) {
	if code, out, _ := runProbe(t, nil, "help"); code != exitOK || !strings.Contains(out, "probe") {
		t.Errorf("help: exit %d, output %q", code, out)
	}
	if code, _, errOut := runProbe(t, nil, "probe", "-h"); code != exitOK || !strings.Contains(errOut, "--timeout") && !strings.Contains(errOut, "-timeout") {
		t.Errorf("probe -h: exit %d, stderr %q", code, errOut)
	}
}

// jsonLines parses the --json output: one object per line.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return lines
}

func TestProbeJSON(t *testing.T) { servertest.Each(t, testProbeJSON) }

func testProbeJSON(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	env := map[string]string{"XMPP_PW": pass}
	for _, tc := range []struct{ name, url, request string }{
		{"websocket", s.WebSocketURL(true), "websocket_upgrade"},
		{"bosh", s.BOSHURL(true), "bosh_session"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runProbe(t, env, "probe", "--json", "--ca-file", s.CAFile,
				"--jid", user+"@"+s.Domain, "--password-env", "XMPP_PW", tc.url)
			if code != exitOK {
				t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			lines := jsonLines(t, stdout)
			var got []string
			last := -1.0
			for _, l := range lines {
				ev, _ := l["event"].(string)
				ms, ok := l["elapsed_ms"].(float64)
				if !ok || ms < last {
					t.Errorf("line %v: elapsed_ms missing or going back", l)
				}
				last = ms
				switch ev {
				case "connection.stateChanged":
					got = append(got, ev+" "+l["from"].(string)+"->"+l["state"].(string))
				case "connection.connectionEstablished":
					jid, _ := l["jid"].(string)
					if !strings.HasPrefix(jid, user+"@"+s.Domain+"/") || l["resumed"] != false {
						t.Errorf("established line %v", l)
					}
					got = append(got, ev)
				case "probe.result":
					checkProbeResult(t, l, tc.request)
					got = append(got, ev)
				default:
					got = append(got, ev)
				}
			}
			want := []string{
				"connection.stateChanged CLOSED->CONNECTING",
				"connection.stateChanged CONNECTING->CONNECTED",
				"connection.connectionEstablished",
				"connection.stateChanged CONNECTED->CLOSING",
				"connection.stateChanged CLOSING->CLOSED",
				"connection.connectionDisconnected",
				"probe.result",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// checkProbeResult checks the probe.result line of a login over TLS: the
// phases in order, the mechanism, the ping, the certificate expiry.
func checkProbeResult(t *testing.T, l map[string]any, request string) {
	t.Helper()
	phases, _ := l["phases_ms"].(map[string]any)
	for _, p := range []string{"connect", "tls", request, "stream_open", "sasl_1"} {
		if v, ok := phases[p].(float64); !ok || v < 0 {
			t.Errorf("probe.result: no phase %s in %v", p, l["phases_ms"])
		}
	}
	if m, _ := l["mechanism"].(string); !strings.HasPrefix(m, "SCRAM-") {
		t.Errorf("probe.result: mechanism %q", m)
	}
	if v, _ := l["ping_ms"].(float64); v <= 0 || l["connected"] != true {
		t.Errorf("probe.result: ping_ms %v, connected %v", l["ping_ms"], l["connected"])
	}
	if e, _ := l["cert_expiry"].(string); e == "" || l["tls_version"] == nil {
		t.Errorf("probe.result: cert_expiry %q, tls_version %v", e, l["tls_version"])
	}
}

func TestProbeWrongPassword(t *testing.T) { servertest.Each(t, testProbeWrongPassword) }

func testProbeWrongPassword(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	wrong := pass + "-but-wrong"
	env := map[string]string{"XMPP_PW": wrong}
	for _, jsonOut := range []bool{true, false} {
		args := []string{"probe", "--jid", user + "@" + s.Domain, "--password-env", "XMPP_PW", "--allow-plain", "-v", s.WebSocketURL(false)}
		if jsonOut {
			args = append(args, "--json")
		}
		code, stdout, stderr := runProbe(t, env, args...)
		if code != exitFailed {
			t.Errorf("json=%t: exit %d, want %d", jsonOut, code, exitFailed)
		}
		if strings.Contains(stdout+stderr, wrong) {
			t.Errorf("json=%t: output shows the password:\n%s\n%s", jsonOut, stdout, stderr)
		}
		if !strings.Contains(stdout, "connection.passwordRequired") {
			t.Errorf("json=%t: output does not report connection.passwordRequired:\n%s", jsonOut, stdout)
		}
		if jsonOut {
			n := 0
			for _, l := range jsonLines(t, stdout) {
				if l["event"] == "connection.connectionFailed" {
					n++
					if l["error"] != "connection.passwordRequired" || l["reason"] == "" {
						t.Errorf("failed line %v", l)
					}
				}
			}
			if n != 1 {
				t.Errorf("%d connectionFailed lines, want 1", n)
			}
		}
	}
}
