package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const exporterUsage = `usage: xmppconn exporter [flags]

Serves Prometheus metrics of XMPP logins, in the style of blackbox_exporter:

  /probe?target=URL|DOMAIN&module=NAME[&domain=DOMAIN]
      logs in once with the module's settings and answers with the probe's
      metrics (probe_success, probe_duration_seconds, the duration of each
      phase, what the server offered, the certificate expiry, the ping
      round trip, the Jitsi properties). module defaults to "default".
  /metrics
      the exporter's own metrics.

Without --config the one module is "default": SASL ANONYMOUS over any
transport; domain sets the XMPP domain where it is not the target's host.
A module with credentials logs in only to its allowed_targets, never
follows a redirect, and takes its secret from an environment variable or a
file, never from the request. docs/operators.md has the configuration file,
a Prometheus scrape configuration and alerts.

flags:
`

// Defaults of the exporter's flags.
const (
	defaultExporterListen = "127.0.0.1:9470"
	defaultMaxConcurrent  = 16
	defaultTimeoutOffset  = 500 * time.Millisecond
	// scrapeTimeoutHeader is how Prometheus tells its scrape timeout.
	scrapeTimeoutHeader = "X-Prometheus-Scrape-Timeout-Seconds"
)

// exporterFlags are the flags of the exporter command.
type exporterFlags struct {
	listen        string
	config        string
	maxConcurrent int
	timeoutOffset time.Duration
	verbose       bool
}

// exporterCmd runs the exporter until interrupted (SIGINT or SIGTERM),
// then lets the probes in progress end.
func exporterCmd(ctx context.Context, args []string, _, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("exporter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f exporterFlags
	fs.StringVar(&f.listen, "listen", defaultExporterListen, "address to serve HTTP on (host:port; :9470 for every interface)")
	fs.StringVar(&f.config, "config", "", "YAML file of probe modules (default: one module, \"default\", anonymous)")
	fs.IntVar(&f.maxConcurrent, "max-concurrent", defaultMaxConcurrent, "probes at once; more are refused with 503")
	fs.DurationVar(&f.timeoutOffset, "timeout-offset", defaultTimeoutOffset, "subtracted from Prometheus's scrape timeout to bound a probe")
	fs.BoolVar(&f.verbose, "v", false, "debug logs on stderr (never secrets)")
	fs.Usage = func() {
		fmt.Fprint(stderr, exporterUsage)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if isHelp(err) {
			return exitOK
		}
		return exitUsage
	}
	switch {
	case len(pos) > 0:
		fmt.Fprintln(stderr, "xmppconn exporter: takes no arguments; targets come with each scrape")
		return exitUsage
	case f.maxConcurrent < 1:
		fmt.Fprintln(stderr, "xmppconn exporter: --max-concurrent must be at least 1")
		return exitUsage
	case f.timeoutOffset < 0:
		fmt.Fprintln(stderr, "xmppconn exporter: --timeout-offset must not be negative")
		return exitUsage
	}
	modules := defaultModules()
	if f.config != "" {
		if modules, err = loadModules(f.config, getenv); err != nil {
			fmt.Fprintln(stderr, "xmppconn exporter:", err)
			return exitUsage
		}
	}
	level := slog.LevelInfo
	if f.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ex := newExporter(modules, getenv, f.maxConcurrent, f.timeoutOffset, log, f.verbose)
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		fmt.Fprintln(stderr, "xmppconn exporter:", err)
		return exitFailed
	}
	srv := &http.Server{Handler: ex.handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("xmppconn exporter listening", "addr", ln.Addr().String(), "modules", strings.Join(ex.moduleNames(), ","), "version", version())
	select {
	case err := <-served:
		fmt.Fprintln(stderr, "xmppconn exporter:", err)
		return exitFailed
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), maxModuleTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintln(stderr, "xmppconn exporter: shutdown:", err)
		return exitFailed
	}
	return exitOK
}

// exporter answers /probe and /metrics.
type exporter struct {
	modules map[string]*module
	getenv  func(string) string
	slots   chan struct{} // one per probe in progress
	offset  time.Duration
	log     *slog.Logger
	connLog *slog.Logger // for the probes' Connections; nil unless verbose

	reg      *prometheus.Registry // the exporter's own metrics
	probes   *prometheus.CounterVec
	rejected *prometheus.CounterVec
	inFlight prometheus.Gauge
}

// Reasons of xmppconn_exporter_rejected_probes_total.
const (
	rejectBadRequest = "bad_request"
	rejectTooMany    = "too_many_probes"
	rejectConfig     = "config"
)

// newExporter returns an exporter of modules that runs at most
// maxConcurrent probes at once.
func newExporter(modules map[string]*module, getenv func(string) string, maxConcurrent int, offset time.Duration, log *slog.Logger, verbose bool) *exporter {
	e := &exporter{
		modules: modules,
		getenv:  getenv,
		slots:   make(chan struct{}, maxConcurrent),
		offset:  offset,
		log:     log,
		reg:     prometheus.NewRegistry(),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xmppconn_exporter_probes_total", Help: "Probes run, by module and result (success, failure).",
		}, []string{"module", "result"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xmppconn_exporter_rejected_probes_total", Help: "Probe requests refused, by reason: bad_request (400), too_many_probes (503), config (500).",
		}, []string{"reason"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "xmppconn_exporter_probes_in_flight", Help: "Probes in progress.",
		}),
	}
	if verbose {
		e.connLog = log
	}
	limit := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "xmppconn_exporter_max_concurrent_probes", Help: "Probes allowed at once (--max-concurrent).",
	})
	limit.Set(float64(maxConcurrent))
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "xmppconn_exporter_build_info", Help: "The exporter's version.",
	}, []string{"version"})
	info.WithLabelValues(version()).Set(1)
	for _, r := range []string{rejectBadRequest, rejectTooMany, rejectConfig} {
		e.rejected.WithLabelValues(r)
	}
	e.reg.MustRegister(e.probes, e.rejected, e.inFlight, limit, info,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return e
}

// moduleNames returns the names of the modules, sorted.
func (e *exporter) moduleNames() []string { return slices.Sorted(maps.Keys(e.modules)) }

// handler serves /probe, /metrics and a short index at /.
func (e *exporter) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /probe", e.serveProbe)
	mux.Handle("GET /metrics", promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "xmppconn exporter %s\n\n/probe?target=URL|DOMAIN&module=NAME[&domain=DOMAIN]\n/metrics\n\nmodules: %s\n",
			version(), strings.Join(e.moduleNames(), ", "))
	})
	return mux
}

// reject answers a probe request that will not be run, with the reason.
func (e *exporter) reject(w http.ResponseWriter, status int, reason, msg string) {
	e.rejected.WithLabelValues(reason).Inc()
	e.log.Debug("probe refused", "status", status, "reason", msg)
	http.Error(w, msg, status)
}

// serveProbe runs one probe and answers with its metrics.
func (e *exporter) serveProbe(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	name := q.Get("module")
	if name == "" {
		name = defaultModuleName
	}
	m := e.modules[name]
	if m == nil {
		e.reject(w, http.StatusBadRequest, rejectBadRequest, fmt.Sprintf("unknown module %q (modules: %s)", name, strings.Join(e.moduleNames(), ", ")))
		return
	}
	t, err := m.parseTarget(q.Get("target"))
	if err != nil {
		e.reject(w, http.StatusBadRequest, rejectBadRequest, err.Error())
		return
	}
	timeout, err := e.timeout(req, m)
	if err != nil {
		e.reject(w, http.StatusBadRequest, rejectBadRequest, err.Error())
		return
	}
	cfg, err := m.config(t, q.Get("domain"), e.getenv)
	if err != nil {
		var re *requestError
		if errors.As(err, &re) {
			e.reject(w, http.StatusBadRequest, rejectBadRequest, err.Error())
			return
		}
		e.log.Error("probe module", "module", name, "err", err)
		e.reject(w, http.StatusInternalServerError, rejectConfig, fmt.Sprintf("module %q cannot run: %v", name, err))
		return
	}
	select {
	case e.slots <- struct{}{}:
	default:
		e.reject(w, http.StatusServiceUnavailable, rejectTooMany, fmt.Sprintf("too many probes at once (limit %d, --max-concurrent); scrape less often or raise the limit", cap(e.slots)))
		return
	}
	defer func() { <-e.slots }()
	e.inFlight.Inc()
	defer e.inFlight.Dec()

	cfg.Logger = e.connLog
	cfg.Reconnect.AttemptTimeout = timeout
	ctx, cancel := context.WithTimeout(req.Context(), timeout)
	run := newProbeRun(cfg)
	start := time.Now()
	r := run.connect(ctx)
	cancel()
	duration := time.Since(start)
	failed := m.failedConditions(&r)

	pm := newProbeMetrics()
	pm.record(&r, failed, duration)
	result := "success"
	if !r.connected() || len(failed) > 0 {
		result = "failure"
		e.log.Info("probe failed", "module", name, "target", t.url, "error_type", r.errorType(), "fail_if", len(failed), "duration", duration.Round(time.Millisecond))
	} else {
		e.log.Debug("probe", "module", name, "target", t.url, "duration", duration.Round(time.Millisecond))
	}
	e.probes.WithLabelValues(name, result).Inc()
	promhttp.HandlerFor(pm.reg, promhttp.HandlerOpts{}).ServeHTTP(w, req)
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	// The answer is out; the session ends while the slot is still held.
	if r.connected() {
		if err := run.close(); err != nil {
			e.log.Debug("probe disconnect", "module", name, "err", err)
		}
	} else {
		run.closePool()
	}
}

// timeout returns the bound of a probe: the module's timeout, and below it
// Prometheus's scrape timeout less the offset (half the scrape timeout when
// the offset would leave nothing).
func (e *exporter) timeout(req *http.Request, m *module) (time.Duration, error) {
	d := m.Timeout
	v := req.Header.Get(scrapeTimeoutHeader)
	if v == "" {
		return d, nil
	}
	s, err := strconv.ParseFloat(v, 64)
	if err != nil || s <= 0 || math.IsInf(s, 0) || math.IsNaN(s) {
		return 0, badRequest("%s %q is not a positive number of seconds", scrapeTimeoutHeader, v)
	}
	scrape := time.Duration(min(s, maxModuleTimeout.Seconds()) * float64(time.Second))
	bound := scrape - e.offset
	if bound <= 0 {
		bound = scrape / 2
	}
	return min(d, bound), nil
}
