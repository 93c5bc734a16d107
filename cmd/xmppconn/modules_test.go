package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xmppconn/xmppconn/xmppconn"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseModules(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := env(map[string]string{"PROBE_PW": "s3cret-pw", "PROBE_TOKEN": "tok"})
	cases := []struct {
		name, yaml string
		want       string // in the error; "" for none
	}{
		{"anonymous module", "modules:\n  anon:\n    transport: websocket\n    timeout: 5s\n", ""},
		{"empty module", "modules:\n  anon:\n", ""},
		{"password from the environment", "modules:\n  login:\n    credentials: {jid: probe@example.com, password_env: PROBE_PW}\n    allowed_targets: [meet.example.com]\n", ""},
		{"password from a file", "modules:\n  login:\n    credentials: {jid: probe@example.com, password_file: " + pwFile + "}\n    allowed_targets: ['*.example.com']\n", ""},
		{"token from the environment", "modules:\n  tok:\n    credentials: {token_env: PROBE_TOKEN}\n    allowed_targets: [meet.example.com:443]\n", ""},
		{"inline password", "modules:\n  login:\n    credentials: {jid: probe@example.com, password: hunter2}\n    allowed_targets: [meet.example.com]\n",
			"credentials.password: inline secrets are not accepted; name an environment variable (password_env) or a file (password_file)"},
		{"inline token", "modules:\n  tok:\n    credentials: {token: abc}\n    allowed_targets: [meet.example.com]\n", "credentials.token: inline secrets are not accepted"},
		{"credentials without allowed targets", "modules:\n  login:\n    credentials: {jid: probe@example.com, password_env: PROBE_PW}\n", "needs allowed_targets"},
		{"unset variable", "modules:\n  login:\n    credentials: {jid: probe@example.com, password_env: NOPE}\n    allowed_targets: [meet.example.com]\n", "NOPE (password_env) is empty or not set"},
		{"missing file", "modules:\n  login:\n    credentials: {jid: probe@example.com, password_file: /nonexistent/pw}\n    allowed_targets: [meet.example.com]\n", "password_file"},
		{"jid without password", "modules:\n  login:\n    credentials: {jid: probe@example.com}\n    allowed_targets: [meet.example.com]\n", "jid needs password_env or password_file"},
		{"token and jid", "modules:\n  x:\n    credentials: {jid: probe@example.com, password_env: PROBE_PW, token_env: PROBE_TOKEN}\n    allowed_targets: [meet.example.com]\n", "no jid and no password"},
		{"bad jid", "modules:\n  x:\n    credentials: {jid: '@@', password_env: PROBE_PW}\n    allowed_targets: [meet.example.com]\n", "not a JID"},
		{"misspelt condition", "modules:\n  x:\n    fail_if_sasl_mechanism_ofered: [PLAIN]\n", "field fail_if_sasl_mechanism_ofered not found"},
		{"bad transport", "modules:\n  x:\n    transport: tcp\n", "transport \"tcp\""},
		{"negative timeout", "modules:\n  x:\n    timeout: -1s\n", "timeout"},
		{"bad allowed target", "modules:\n  x:\n    allowed_targets: ['https://meet.example.com/']\n", "not a host"},
		{"no modules", "modules: {}\n", "no modules"},
		{"not YAML", "modules: [\n", "config:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mods, err := parseModules([]byte(tc.yaml), getenv)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("parseModules: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("parseModules error %v, want one with %q", err, tc.want)
			case tc.want == "":
				for name, m := range mods {
					if m.name != name || m.Timeout <= 0 || m.Transport == "" {
						t.Errorf("module %q not filled in: %+v", name, m)
					}
				}
			}
			if err != nil {
				for _, secret := range []string{"s3cret-pw", "hunter2", "from-a-file"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q shows a secret", err)
					}
				}
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	mods, err := parseModules([]byte(`modules:
  any: {}
  ws:
    transport: websocket
  login:
    credentials: {jid: probe@example.com, password_env: PW}
    allowed_targets: [meet.example.com, '*.shards.example.com', 'other.example.com:5443']
`), env(map[string]string{"PW": "pw"}))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		module, target string
		want           string // in the error; "" for none
	}{
		{"any", "wss://meet.example.com/xmpp-websocket", ""},
		{"any", "https://meet.example.com/http-bind?room=x", ""},
		{"any", "meet.example.com", ""},
		{"any", "meet.example.com:5443", ""},
		{"any", "", "target parameter is missing"},
		{"any", "ftp://meet.example.com/", "scheme"},
		{"any", "wss://meet.example.com/xmpp-websocket?token=abc", "must not carry token"},
		{"any", "https://meet.example.com/http-bind?previd=abc", "must not carry previd"},
		{"any", "wss://user:pw@meet.example.com/", "user information"},
		{"any", "meet.example.com/path", "neither a URL"},
		{"ws", "https://meet.example.com/http-bind", "probes WebSocket"},
		{"ws", "meet.example.com", "want a URL target"},
		{"login", "wss://meet.example.com/xmpp-websocket", ""},
		{"login", "wss://MEET.example.com./xmpp-websocket", ""},
		{"login", "https://a.shards.example.com/http-bind", ""},
		{"login", "wss://other.example.com:5443/xmpp-websocket", ""},
		{"login", "wss://other.example.com/xmpp-websocket", "not among its allowed_targets"},
		{"login", "wss://shards.example.com/xmpp-websocket", "not among its allowed_targets"},
		{"login", "wss://evil.example.net/xmpp-websocket", "not among its allowed_targets"},
		{"login", "wss://meet.example.com.evil.example.net/", "not among its allowed_targets"},
		{"login", "meet.example.com", "has credentials: want a URL target"},
	}
	for _, tc := range cases {
		t.Run(tc.module+" "+tc.target, func(t *testing.T) {
			_, err := mods[tc.module].parseTarget(tc.target)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("parseTarget: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("parseTarget error %v, want one with %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "abc") {
				t.Errorf("error %q shows the token", err)
			}
		})
	}
}

// TestModuleConfig: the credentials of a module are its own; the domain
// parameter sets the domain of an anonymous probe only.
func TestModuleConfig(t *testing.T) {
	mods, err := parseModules([]byte(`modules:
  anon: {}
  login:
    credentials: {jid: probe@example.com, password_env: PW}
    allowed_targets: [meet.example.com]
`), env(map[string]string{"PW": "pw"}))
	if err != nil {
		t.Fatal(err)
	}
	getenv := env(map[string]string{"PW": "pw"})
	anon, login := mods["anon"], mods["login"]
	tgt, _ := anon.parseTarget("wss://meet.example.com/xmpp-websocket")
	cfg, err := anon.config(tgt, "guest.example.com", getenv)
	if err != nil || cfg.Domain != "guest.example.com" || cfg.Credentials.Username != "" || cfg.Redirect.Disabled {
		t.Errorf("anonymous config %+v, %v", cfg, err)
	}
	if _, err := anon.config(tgt, "a@b", getenv); err == nil {
		t.Error("a JID taken as a domain")
	}
	cfg, err = login.config(tgt, "", getenv)
	if err != nil || cfg.Credentials.Username != "probe@example.com" || cfg.Credentials.Password.Reveal() != "pw" || !cfg.Redirect.Disabled {
		t.Errorf("login config %+v, %v", cfg, err)
	}
	if _, err := login.config(tgt, "elsewhere.example.net", getenv); err == nil || !strings.Contains(err.Error(), "cannot change it") {
		t.Errorf("domain parameter on a module with credentials: %v", err)
	}
	if _, err := login.config(tgt, "", env(nil)); err == nil {
		t.Error("config without the password's variable")
	}
}

func TestFailedConditions(t *testing.T) {
	mods, err := parseModules([]byte(`modules:
  strict:
    fail_if_sasl_mechanism_offered: [plain]
    fail_if_sasl_mechanism_not_offered: [SCRAM-SHA-256, SCRAM-SHA-512]
    fail_if_sasl2_not_offered: true
    fail_if_stream_management_not_offered: true
    fail_if_not_tls: true
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := probeResult{attempt: xmppconn.Attempt{Offered: xmppconn.Offered{Mechanisms: []string{"SCRAM-SHA-256", "PLAIN"}}}}
	got := mods["strict"].failedConditions(&r)
	want := [][2]string{
		{"fail_if_sasl_mechanism_offered", "PLAIN"},
		{"fail_if_sasl_mechanism_not_offered", "SCRAM-SHA-512"},
		{"fail_if_sasl2_not_offered", ""},
		{"fail_if_stream_management_not_offered", ""},
		{"fail_if_not_tls", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("conditions %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("condition %d: %v, want %v", i, got[i], want[i])
		}
	}
	var none probeResult
	if c := mods["strict"].failedConditions(&none); c != nil {
		t.Errorf("conditions %v before any features came", c)
	}
}
