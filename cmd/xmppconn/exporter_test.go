package main

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/xmppconn/xmppconn/internal/xmpptest"
)

// testExporter serves an exporter of the modules in yamlConfig (none:
// the default module) with env as its environment.
func testExporter(t *testing.T, yamlConfig string, environ map[string]string, maxConcurrent int) (*exporter, string) {
	t.Helper()
	mods := defaultModules()
	if yamlConfig != "" {
		var err error
		if mods, err = parseModules([]byte(yamlConfig), env(environ)); err != nil {
			t.Fatal(err)
		}
	}
	ex := newExporter(mods, env(environ), maxConcurrent, defaultTimeoutOffset, slog.New(slog.DiscardHandler), false)
	srv := httptest.NewServer(ex.handler())
	t.Cleanup(srv.Close)
	return ex, srv.URL
}

// scrape gets path from the exporter with the query q and header h, and
// parses a 200 answer with Prometheus's own parser.
func scrape(t *testing.T, base, path string, q url.Values, h http.Header) (int, map[string]*dto.MetricFamily, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(req.Header, h)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || path == "/" {
		return resp.StatusCode, nil, string(body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v\n%s", err, body)
	}
	return resp.StatusCode, fams, string(body)
}

// value returns the value of the sample of metric name whose labels
// include labels.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

// TestExporterRefuses: a request the exporter will not run gets 400 with
// the reason, and is counted.
func TestExporterRefuses(t *testing.T) {
	_, base := testExporter(t, `modules:
  default: {}
  login:
    credentials: {jid: probe@example.com, password_env: PW}
    allowed_targets: [meet.example.com]
`, map[string]string{"PW": "s3cret-pw"}, 4)
	cases := []struct {
		name   string
		q      url.Values
		header http.Header
		want   string
	}{
		{"unknown module", url.Values{"module": {"nope"}, "target": {"wss://meet.example.com/x"}}, nil, `unknown module "nope" (modules: default, login)`},
		{"no target", url.Values{"module": {"default"}}, nil, "target parameter is missing"},
		{"token in the target", url.Values{"target": {"wss://meet.example.com/x?token=s3cret-tok"}}, nil, "must not carry token"},
		{"target not allowed", url.Values{"module": {"login"}, "target": {"wss://elsewhere.example.net/x"}}, nil, "not among its allowed_targets"},
		{"domain for credentials", url.Values{"module": {"login"}, "target": {"wss://meet.example.com/x"}, "domain": {"other.example"}}, nil, "cannot change it"},
		{"bad domain", url.Values{"target": {"wss://meet.example.com/x"}, "domain": {"a/b@c"}}, nil, "not an XMPP domain"},
		{"bad scrape timeout", url.Values{"target": {"wss://meet.example.com/x"}}, http.Header{scrapeTimeoutHeader: {"soon"}}, "not a positive number of seconds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, body := scrape(t, base, "/probe", tc.q, tc.header)
			if code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
				t.Errorf("status %d, body %q; want 400 with %q", code, body, tc.want)
			}
			for _, secret := range []string{"s3cret-pw", "s3cret-tok"} {
				if strings.Contains(body, secret) {
					t.Errorf("body %q shows a secret", body)
				}
			}
		})
	}
	_, fams, _ := scrape(t, base, "/metrics", nil, nil)
	if v, _ := value(fams, "xmppconn_exporter_rejected_probes_total", map[string]string{"reason": "bad_request"}); v != float64(len(cases)) {
		t.Errorf("rejected bad requests counted %v, want %d", v, len(cases))
	}
}

// TestExporterConcurrencyLimit: past --max-concurrent probes in progress,
// a probe is refused with 503 and the reason, before any dial.
func TestExporterConcurrencyLimit(t *testing.T) {
	ex, base := testExporter(t, "", nil, 2)
	ex.slots <- struct{}{}
	ex.slots <- struct{}{}
	code, _, body := scrape(t, base, "/probe", url.Values{"target": {"wss://meet.example.com/x"}}, nil)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "too many probes at once (limit 2") {
		t.Errorf("status %d, body %q; want 503 with the limit", code, body)
	}
	_, fams, _ := scrape(t, base, "/metrics", nil, nil)
	if v, _ := value(fams, "xmppconn_exporter_rejected_probes_total", map[string]string{"reason": rejectTooMany}); v != 1 {
		t.Errorf("rejected for the limit: %v, want 1", v)
	}
	if v, _ := value(fams, "xmppconn_exporter_max_concurrent_probes", nil); v != 2 {
		t.Errorf("xmppconn_exporter_max_concurrent_probes %v, want 2", v)
	}
}

func TestExporterTimeout(t *testing.T) {
	ex := &exporter{offset: 500 * time.Millisecond}
	m := &module{Timeout: 10 * time.Second}
	cases := []struct {
		header string
		want   time.Duration
	}{
		{"", 10 * time.Second},
		{"5", 4500 * time.Millisecond},
		{"0.4", 200 * time.Millisecond}, // the offset would leave nothing: half
		{"15", 10 * time.Second},        // the module's bound
		{"1e300", 10 * time.Second},
	}
	for _, tc := range cases {
		req := httptest.NewRequest(http.MethodGet, "/probe", nil)
		if tc.header != "" {
			req.Header.Set(scrapeTimeoutHeader, tc.header)
		}
		got, err := ex.timeout(req, m)
		if err != nil || got != tc.want {
			t.Errorf("header %q: %v, %v; want %v", tc.header, got, err, tc.want)
		}
	}
	for _, bad := range []string{"0", "-1", "NaN", "+Inf", "soon"} {
		req := httptest.NewRequest(http.MethodGet, "/probe", nil)
		req.Header.Set(scrapeTimeoutHeader, bad)
		if _, err := ex.timeout(req, m); err == nil {
			t.Errorf("header %q accepted", bad)
		}
	}
}

// TestExporterUnreachable: a target that refuses the connection is a
// failed probe (200, probe_success 0, the error type), not an HTTP error;
// and the exporter counts it.
func TestExporterUnreachable(t *testing.T) {
	ln := httptest.NewServer(http.NotFoundHandler()) // a port that is free once closed
	target := "ws://" + ln.Listener.Addr().String() + "/xmpp-websocket"
	ln.Close()
	_, base := testExporter(t, "", nil, 4)
	code, fams, body := scrape(t, base, "/probe", url.Values{"target": {target}}, http.Header{scrapeTimeoutHeader: {"3"}})
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	if v, ok := value(fams, "probe_success", nil); !ok || v != 0 {
		t.Errorf("probe_success %v (present %t), want 0", v, ok)
	}
	if v, _ := value(fams, "probe_xmpp_error_info", map[string]string{"error_type": "connection.otherError"}); v != 1 {
		t.Errorf("no probe_xmpp_error_info for connection.otherError:\n%s", body)
	}
	if v, _ := value(fams, "probe_xmpp_phase_duration_seconds", map[string]string{"phase": "connect"}); v <= 0 {
		t.Errorf("no connect phase:\n%s", body)
	}
	if _, ok := value(fams, "probe_duration_seconds", nil); !ok {
		t.Errorf("no probe_duration_seconds:\n%s", body)
	}
	_, own, _ := scrape(t, base, "/metrics", nil, nil)
	if v, _ := value(own, "xmppconn_exporter_probes_total", map[string]string{"module": "default", "result": "failure"}); v != 1 {
		t.Errorf("failed probes counted %v, want 1", v)
	}
	code, _, index := scrape(t, base, "/", nil, nil)
	if code != http.StatusOK || !strings.Contains(index, "modules: default") {
		t.Errorf("index: %d %q", code, index)
	}
}

// TestExporterCommand: the command refuses a bad configuration before it
// listens (an inline secret, with the way to give it), serves until
// interrupted, then exits cleanly.
func TestExporterCommand(t *testing.T) {
	inline := filepath.Join(t.TempDir(), "inline.yml")
	if err := os.WriteFile(inline, []byte("modules:\n  login:\n    credentials: {jid: a@example.com, password: hunter2}\n    allowed_targets: [example.com]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"exporter", "--config", inline}, "inline secrets are not accepted"},
		{[]string{"exporter", "--config", "/nonexistent.yml"}, "config:"},
		{[]string{"exporter", "wss://example.com/x"}, "takes no arguments"},
		{[]string{"exporter", "--max-concurrent", "0"}, "--max-concurrent"},
	} {
		code, _, stderr := runProbe(t, nil, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "hunter2") {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", tc.args, code, stderr, exitUsage, tc.want)
		}
	}

	var stderr xmpptest.Buffer
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"exporter", "--listen", "127.0.0.1:0"}, io.Discard, &stderr, env(nil))
	}()
	waitOutput(t, &stderr, "xmppconn exporter listening", 1)
	addr := regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(stderr.String())
	if addr == nil {
		t.Fatalf("no address in %q", stderr.String())
	}
	resp, err := http.Get("http://" + addr[1] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/metrics: %d", resp.StatusCode)
	}
	interrupt()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d after the interrupt; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the exporter did not stop when interrupted")
	}
}
