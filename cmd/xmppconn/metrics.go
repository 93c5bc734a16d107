package main

import (
	"crypto/tls"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// probeMetrics are the metrics of one probe, in a registry of their own,
// as blackbox_exporter answers /probe. A metric that has no value for a
// probe (no TLS, no ping, no Jitsi properties) is left out of the answer.
type probeMetrics struct {
	reg *prometheus.Registry

	success       prometheus.Gauge
	duration      prometheus.Gauge
	connect       prometheus.Gauge
	phase         *prometheus.GaugeVec
	ping          prometheus.Gauge
	offered       *prometheus.GaugeVec
	feature       *prometheus.GaugeVec
	used          *prometheus.GaugeVec
	errorType     *prometheus.GaugeVec
	failedDueTo   *prometheus.GaugeVec
	certExpiry    prometheus.Gauge
	tlsVersion    *prometheus.GaugeVec
	jitsi         *prometheus.GaugeVec
	transportInfo *prometheus.GaugeVec
}

// newProbeMetrics makes the metrics of one probe.
func newProbeMetrics() *probeMetrics {
	g := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	v := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	}
	m := &probeMetrics{
		reg:       prometheus.NewRegistry(),
		success:   g("probe_success", "Whether the probe logged in (and passed its module's fail_if conditions)."),
		duration:  g("probe_duration_seconds", "How long the probe took: connect and ping."),
		connect:   g("probe_xmpp_connect_duration_seconds", "How long the connect attempt took, up to the session or the failure: the sum of the phases."),
		phase:     v("probe_xmpp_phase_duration_seconds", "Duration of each phase of the connect attempt; sm_enable is measured after the session came up.", "phase"),
		ping:      g("probe_xmpp_ping_duration_seconds", "Round trip of one XEP-0199 ping once connected."),
		offered:   v("probe_xmpp_sasl_mechanism_offered", "SASL mechanisms the server offered (protocol sasl: RFC 6120; sasl2: XEP-0388).", "mechanism", "protocol"),
		feature:   v("probe_xmpp_feature_offered", "Whether the server offered a stream feature: sasl2, bind2, stream_management.", "feature"),
		used:      v("probe_xmpp_sasl_mechanism_used", "The SASL mechanism the probe authenticated with.", "mechanism", "protocol"),
		errorType: v("probe_xmpp_error_info", "Why the connect attempt failed: the error type of its connection.connectionFailed.", "error_type"),
		failedDueTo: v("probe_xmpp_failed_due_to",
			"A fail_if condition of the module that made the probe fail, with the value that did (a mechanism).", "condition", "value"),
		certExpiry:    g("probe_ssl_earliest_cert_expiry", "Earliest expiry of the certificates the server presented, in Unix seconds."),
		tlsVersion:    v("probe_tls_version_info", "The TLS version of the endpoint's connection.", "version"),
		jitsi:         v("probe_xmpp_jitsi_info", "The Jitsi deployment's properties: shard, region, release (empty when not told).", "shard", "region", "release"),
		transportInfo: v("probe_xmpp_transport_info", "The transport and endpoint the probe used.", "transport", "endpoint"),
	}
	m.reg.MustRegister(m.success, m.duration, m.phase, m.offered, m.feature, m.errorType, m.failedDueTo)
	return m
}

// record sets the metrics of a probe's result; failed lists the fail_if
// conditions that held.
func (m *probeMetrics) record(r *probeResult, failed [][2]string, duration time.Duration) {
	a := r.attempt
	success := r.connected() && len(failed) == 0
	if success {
		m.success.Set(1)
	}
	m.duration.Set(duration.Seconds())
	if !r.connected() {
		m.errorType.WithLabelValues(r.errorType()).Set(1)
	}
	for _, f := range failed {
		m.failedDueTo.WithLabelValues(f[0], f[1]).Set(1)
	}
	if a.Transport != "" {
		m.transportInfo.WithLabelValues(a.Transport, a.Endpoint).Set(1)
		m.reg.MustRegister(m.transportInfo)
		m.connect.Set(a.Total.Seconds())
		m.reg.MustRegister(m.connect)
	}
	keys, d := phaseDurations(a)
	for _, k := range keys {
		m.phase.WithLabelValues(k).Set(d[k].Seconds())
	}
	if a.Offered.Mechanisms != nil || a.Offered.SASL2 {
		for _, mech := range a.Offered.Mechanisms {
			m.offered.WithLabelValues(mech, "sasl").Set(1)
		}
		for _, mech := range a.Offered.SASL2Mechanisms {
			m.offered.WithLabelValues(mech, "sasl2").Set(1)
		}
		m.feature.WithLabelValues("sasl2").Set(b2f(a.Offered.SASL2))
		m.feature.WithLabelValues("bind2").Set(b2f(a.Offered.Bind2))
		if r.connected() || a.Offered.SASL2 {
			// Stream management is offered after authentication, or
			// inline in SASL2: unknown before.
			m.feature.WithLabelValues("stream_management").Set(b2f(a.Offered.StreamManagement))
		}
	}
	if a.Mechanism != "" {
		protocol := "sasl"
		if a.SASL2 {
			protocol = "sasl2"
		}
		m.used.WithLabelValues(a.Mechanism, protocol).Set(1)
		m.reg.MustRegister(m.used)
	}
	if a.TLS.Version != 0 {
		m.tlsVersion.WithLabelValues(tls.VersionName(a.TLS.Version)).Set(1)
		m.reg.MustRegister(m.tlsVersion)
		if e := a.TLS.EarliestCertExpiry; !e.IsZero() {
			m.certExpiry.Set(float64(e.Unix()))
			m.reg.MustRegister(m.certExpiry)
		}
	}
	if r.connected() && r.pingErr == nil && r.ping > 0 {
		m.ping.Set(r.ping.Seconds())
		m.reg.MustRegister(m.ping)
	}
	if p := r.properties; p != nil {
		m.jitsi.WithLabelValues(p["shard"], p["region"], p["release"]).Set(1)
		m.reg.MustRegister(m.jitsi)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
