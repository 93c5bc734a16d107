package main

import (
	"strings"
	"testing"

	"github.com/xmppconn/xmppconn/internal/servertest"
)

// TestProbeCountUsesFAST: repeated probes share one FAST token store, so
// against a server that offers XEP-0484 (Prosody 13 with mod_sasl2_fast)
// the first probe logs in with the password and asks for a token, and the
// next ones log in with it; each probe.result line names its mechanism,
// and the token shows nowhere. With --no-fast every probe uses the password.
func TestProbeCountUsesFAST(t *testing.T) {
	servertest.EachKind(t, servertest.FAST, func(t *testing.T, k servertest.Kind) {
		s := servertest.StartTest(t, k, &servertest.Options{Prosody: servertest.ProsodyOptions{
			Modules: []string{"sasl2", "sasl2_bind2", "sasl2_sm", "sasl2_fast"},
		}})
		user, pass := s.NewUser(t)
		env := map[string]string{"PW": pass}
		mechanisms := func(extra ...string) []string {
			args := append([]string{"probe", "--json", "--count", "3", "--ca-file", s.CAFile,
				"--jid", user + "@" + s.Domain, "--password-env", "PW"}, extra...)
			args = append(args, s.WebSocketURL(true))
			code, stdout, stderr := runProbe(t, env, args...)
			if code != exitOK {
				t.Fatalf("exit %d; stderr %s", code, stderr)
			}
			var mechs []string
			for _, l := range jsonLines(t, stdout) {
				if l["event"] == "probe.result" {
					m, _ := l["mechanism"].(string)
					mechs = append(mechs, m)
				}
			}
			if strings.Contains(stdout, pass) || strings.Contains(stderr, pass) {
				t.Error("the password shows in the output")
			}
			return mechs
		}
		got := mechanisms()
		if len(got) != 3 || strings.HasPrefix(got[0], "HT-") || !strings.HasPrefix(got[1], "HT-") || !strings.HasPrefix(got[2], "HT-") {
			t.Errorf("mechanisms %v, want a password mechanism, then FAST (HT-*) twice", got)
		}
		for _, m := range mechanisms("--no-fast") {
			if strings.HasPrefix(m, "HT-") {
				t.Errorf("--no-fast logged in with %s", m)
			}
		}
	})
}
