package main

import (
	"encoding/pem"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// operatorsYAML returns the YAML blocks of docs/operators.md, by their
// first key.
func operatorsYAML(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/operators.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		key, _, _ := strings.Cut(m[1], ":")
		out[key] = m[1]
	}
	return out
}

// TestOperatorsModules: the module configuration of docs/operators.md
// loads, with its files and variables in place.
func TestOperatorsModules(t *testing.T) {
	block := operatorsYAML(t)["modules"]
	if block == "" {
		t.Fatal("no modules block in docs/operators.md")
	}
	dir := t.TempDir()
	srv := httptest.NewTLSServer(nil)
	srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	for name, data := range map[string][]byte{"ca.pem": ca, "jitsi.jwt": []byte("a.b.c\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	block = strings.ReplaceAll(block, "/etc/xmppconn/", dir+"/")
	mods, err := parseModules([]byte(block), env(map[string]string{"XMPP_PROBE_PASSWORD": "pw"}))
	if err != nil {
		t.Fatalf("the documented modules do not load: %v", err)
	}
	for _, name := range []string{"default", "login", "jitsi_token"} {
		if mods[name] == nil {
			t.Errorf("no module %q", name)
		}
	}
}

// TestOperatorsPrometheus: the scrape configuration and the alerts of
// docs/operators.md pass promtool (installed with make prometheus).
func TestOperatorsPrometheus(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("XMPPCONN_REQUIRE_PROSODY") == "1" {
			t.Fatal("promtool is not installed (make prometheus) and XMPPCONN_REQUIRE_PROSODY=1")
		}
		t.Skip("promtool is not installed: make prometheus")
	}
	blocks := operatorsYAML(t)
	for _, c := range []struct{ key, check string }{{"scrape_configs", "config"}, {"groups", "rules"}} {
		f := filepath.Join(t.TempDir(), c.key+".yml")
		if err := os.WriteFile(f, []byte(blocks[c.key]), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(promtool, "check", c.check, f).CombinedOutput(); err != nil {
			t.Errorf("promtool check %s: %v\n%s", c.check, err, out)
		}
	}
}
