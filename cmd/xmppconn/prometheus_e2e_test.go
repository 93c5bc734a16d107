package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/internal/servertest"
)

// prometheusScrapeConfig is the scrape configuration of the end-to-end
// test, the one docs/operators.md gives: one job per module, the targets
// relabelled into the target parameter as for blackbox_exporter.
const prometheusScrapeConfig = `global:
  scrape_interval: 2s
  scrape_timeout: 2s
scrape_configs:
%s`

const prometheusJob = `  - job_name: %s
    metrics_path: /probe
    params:
      module: [%s]
    static_configs:
      - targets: ['%s']
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: %s
`

// TestPrometheusEndToEnd runs a real Prometheus (Debian's prometheus
// package, make prometheus) on a loopback port with a configuration and a
// storage directory of its own, scraping the exporter for two targets: a
// good login and a wrong password; its query API must give probe_success 1
// and 0. Without Prometheus the test skips, except in CI
// (XMPPCONN_REQUIRE_PROSODY=1), where it fails.
func TestPrometheusEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("no Prometheus in -short mode")
	}
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("XMPPCONN_REQUIRE_PROSODY") == "1" {
			t.Fatal("prometheus is not installed (make prometheus) and XMPPCONN_REQUIRE_PROSODY=1")
		}
		t.Skip("prometheus is not installed: make prometheus")
	}
	kinds, err := servertest.Selected()
	if err != nil || len(kinds) == 0 {
		t.Fatalf("servers: %v", err)
	}
	// One server is enough: the subject is the exporter and Prometheus.
	s := servertest.Require(t, kinds[0])
	user, pass := s.NewUser(t)
	_, base := testExporter(t, exporterModules(s, user), map[string]string{"PW": pass, "WRONG_PW": pass + "-wrong"}, 4)
	exporterAddr := strings.TrimPrefix(base, "http://")

	target := s.WebSocketURL(true)
	cfg := fmt.Sprintf(prometheusScrapeConfig,
		fmt.Sprintf(prometheusJob, "xmpp_login", "login", target, exporterAddr)+
			fmt.Sprintf(prometheusJob, "xmpp_wrongpw", "wrongpw", target, exporterAddr))
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	api := startPrometheus(t, bin, cfgFile, filepath.Join(dir, "data"))

	want := map[string]float64{"xmpp_login": 1, "xmpp_wrongpw": 0}
	deadline := time.Now().Add(60 * time.Second)
	var got map[string]float64
	for time.Now().Before(deadline) {
		got, err = queryProbeSuccess(api)
		if err == nil && len(got) == len(want) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil || len(got) != len(want) {
		t.Fatalf("Prometheus never had probe_success of both jobs: %v, %v", got, err)
	}
	t.Logf("Prometheus's probe_success by job: %v", got)
	for job, v := range want {
		if got[job] != v {
			t.Errorf("probe_success{job=%q} = %v, want %v", job, got[job], v)
		}
	}
}

// startPrometheus runs Prometheus on a free loopback port until the test
// ends and returns the base URL of its HTTP API once it is ready.
func startPrometheus(t *testing.T, bin, cfgFile, dataDir string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logFile, err := os.Create(filepath.Join(filepath.Dir(cfgFile), "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--config.file="+cfgFile,
		"--storage.tsdb.path="+dataDir,
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logFile.Name()); err == nil {
				t.Logf("prometheus log:\n%s", b)
			}
		}
	})
	base := "http://" + addr
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/-/ready", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("prometheus exited: %v", err)
		case <-ctx.Done():
			t.Fatal("prometheus never became ready")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// queryProbeSuccess asks Prometheus's query API for probe_success, by job.
func queryProbeSuccess(api string) (map[string]float64, error) {
	resp, err := http.Get(api + "/api/v1/query?" + url.Values{"query": {"probe_success"}}.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var v struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, err
	}
	if v.Status != "success" {
		return nil, errors.New("query status " + v.Status)
	}
	out := map[string]float64{}
	for _, r := range v.Data.Result {
		s, _ := r.Value[1].(string)
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, err
		}
		out[r.Metric["job"]] = f
	}
	return out, nil
}
