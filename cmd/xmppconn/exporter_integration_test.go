package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/xmppconn/xmppconn/internal/servertest"
)

// exporterModules is the configuration of the exporter tests against
// server s: login and wrongpw log in as user (the password in PW and
// WRONG_PW), strict fails on a mechanism no server offers, anon logs in
// anonymously; all trust the server's CA.
func exporterModules(s *servertest.Server, user string) string {
	return `modules:
  login:
    credentials: {jid: ` + user + `@` + s.Domain + `, password_env: PW}
    allowed_targets: [127.0.0.1]
    tls: {ca_file: ` + s.CAFile + `}
  wrongpw:
    credentials: {jid: ` + user + `@` + s.Domain + `, password_env: WRONG_PW}
    allowed_targets: [127.0.0.1]
    tls: {ca_file: ` + s.CAFile + `}
  strict:
    credentials: {jid: ` + user + `@` + s.Domain + `, password_env: PW}
    allowed_targets: [127.0.0.1]
    tls: {ca_file: ` + s.CAFile + `}
    fail_if_sasl_mechanism_not_offered: [X-NONE]
  anon:
    tls: {ca_file: ` + s.CAFile + `}
`
}

// phaseNames returns the phase labels of probe_xmpp_phase_duration_seconds.
func phaseNames(fams map[string]*dto.MetricFamily) map[string]bool {
	out := map[string]bool{}
	if f := fams["probe_xmpp_phase_duration_seconds"]; f != nil {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "phase" {
					out[l.GetValue()] = true
				}
			}
		}
	}
	return out
}

// TestExporterProbe scrapes /probe for each server of the matrix over ws
// and wss (and BOSH where the server keeps rid order): a good login, a
// wrong password, a fail_if condition and an anonymous login on another
// domain, each answer parsed with Prometheus's parser.
func TestExporterProbe(t *testing.T) { servertest.Each(t, testExporterProbe) }

func testExporterProbe(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	_, base := testExporter(t, exporterModules(s, user), map[string]string{"PW": pass, "WRONG_PW": pass + "-wrong"}, 4)
	caExpiry := s.CAExpiry
	for _, tc := range []struct {
		name, target, request string
		secure                bool
	}{
		{"ws", s.WebSocketURL(false), "websocket_upgrade", false},
		{"wss", s.WebSocketURL(true), "websocket_upgrade", true},
		{"https", s.BOSHURL(true), "bosh_session", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			probe := func(module string, extra url.Values) (map[string]*dto.MetricFamily, string) {
				t.Helper()
				q := url.Values{"module": {module}, "target": {tc.target}}
				for k, v := range extra {
					q[k] = v
				}
				code, fams, body := scrape(t, base, "/probe", q, http.Header{scrapeTimeoutHeader: {"15"}})
				if code != http.StatusOK {
					t.Fatalf("module %s: status %d: %s", module, code, body)
				}
				return fams, body
			}

			fams, body := probe("login", nil)
			if v, _ := value(fams, "probe_success", nil); v != 1 {
				t.Fatalf("login: probe_success %v:\n%s\n%s", v, body, s.LogTail(20))
			}
			phases := phaseNames(fams)
			for _, p := range []string{"connect", tc.request, "stream_open", "sasl_1"} {
				if !phases[p] {
					t.Errorf("no phase %s in %v", p, phases)
				}
			}
			if tc.secure != phases["tls"] {
				t.Errorf("tls phase %t over %s", phases["tls"], tc.name)
			}
			found := false
			for _, m := range fams["probe_xmpp_sasl_mechanism_used"].GetMetric() {
				for _, l := range m.GetLabel() {
					found = found || (l.GetName() == "mechanism" && strings.HasPrefix(l.GetValue(), "SCRAM-"))
				}
			}
			if !found {
				t.Errorf("no SCRAM mechanism used:\n%s", body)
			}
			if v, _ := value(fams, "probe_xmpp_sasl_mechanism_offered", map[string]string{"mechanism": "SCRAM-SHA-1"}); v != 1 {
				t.Errorf("SCRAM-SHA-1 not offered:\n%s", body)
			}
			if v, _ := value(fams, "probe_xmpp_ping_duration_seconds", nil); v <= 0 {
				t.Errorf("no ping round trip:\n%s", body)
			}
			if v, ok := value(fams, "probe_ssl_earliest_cert_expiry", nil); tc.secure && v != float64(caExpiry.Unix()) || !tc.secure && ok {
				t.Errorf("probe_ssl_earliest_cert_expiry %v (present %t), want the CA's %d over TLS only", v, ok, caExpiry.Unix())
			}

			fams, body = probe("wrongpw", nil)
			if v, ok := value(fams, "probe_success", nil); !ok || v != 0 {
				t.Errorf("wrong password: probe_success %v:\n%s", v, body)
			}
			if v, _ := value(fams, "probe_xmpp_error_info", map[string]string{"error_type": "connection.passwordRequired"}); v != 1 {
				t.Errorf("wrong password: no connection.passwordRequired:\n%s", body)
			}
			if strings.Contains(body, pass) {
				t.Error("the answer shows the password")
			}

			fams, body = probe("strict", nil)
			if v, _ := value(fams, "probe_success", nil); v != 0 {
				t.Errorf("fail_if: probe_success %v:\n%s", v, body)
			}
			if v, _ := value(fams, "probe_xmpp_failed_due_to", map[string]string{"condition": "fail_if_sasl_mechanism_not_offered", "value": "X-NONE"}); v != 1 {
				t.Errorf("fail_if: no probe_xmpp_failed_due_to:\n%s", body)
			}

			fams, body = probe("anon", url.Values{"domain": {s.AnonDomain}})
			if v, _ := value(fams, "probe_success", nil); v != 1 {
				t.Errorf("anonymous: probe_success %v:\n%s", v, body)
			}
			if v, _ := value(fams, "probe_xmpp_sasl_mechanism_used", map[string]string{"mechanism": "ANONYMOUS"}); v != 1 {
				t.Errorf("anonymous: mechanism:\n%s", body)
			}
		})
	}
}

// TestExporterJitsiInfo: the Jitsi deployment's properties, pushed at
// bind or answered to the query, come out as probe_xmpp_jitsi_info
// (Prosody with the test double of Jitsi's properties).
func TestExporterJitsiInfo(t *testing.T) {
	servertest.EachKind(t, servertest.ProsodyModules, func(t *testing.T, k servertest.Kind) {
		s := servertest.StartTest(t, k, &servertest.Options{Prosody: servertest.ProsodyOptions{ExtraSections: `
VirtualHost "meet.localhost"
	authentication = "anonymous"
	modules_enabled = { "xmppconn_jitsi_props" }
	xmppconn_jitsi_shard = "shard-a"
	xmppconn_jitsi_region = "region-a"
	xmppconn_jitsi_release = "release-a"

VirtualHost "nopush.localhost"
	authentication = "anonymous"
	modules_enabled = { "xmppconn_jitsi_props" }
	xmppconn_jitsi_push = false
	xmppconn_jitsi_shard = "shard-b"
	xmppconn_jitsi_region = "region-b"
	xmppconn_jitsi_release = "release-b"
`}})
		_, base := testExporter(t, "", nil, 4)
		for domain, want := range map[string]map[string]string{
			"meet.localhost":   {"shard": "shard-a", "region": "region-a", "release": "release-a"},
			"nopush.localhost": {"shard": "shard-b", "region": "region-b", "release": "release-b"},
		} {
			code, fams, body := scrape(t, base, "/probe", url.Values{"target": {s.WebSocketURL(false)}, "domain": {domain}}, nil)
			if code != http.StatusOK {
				t.Fatalf("%s: status %d: %s", domain, code, body)
			}
			if v, _ := value(fams, "probe_xmpp_jitsi_info", want); v != 1 {
				t.Errorf("%s: no probe_xmpp_jitsi_info%v:\n%s", domain, want, body)
			}
		}
	})
}
