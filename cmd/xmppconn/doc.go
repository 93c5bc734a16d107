// Command xmppconn probes XMPP servers over WebSocket and BOSH and prints the
// connection lifecycle as Jitsi-style events.
//
// Usage:
//
//	xmppconn probe [flags] URL
//	xmppconn watch [flags] URL
//	xmppconn discover [flags] DOMAIN
//	xmppconn exporter [--listen ADDR] [--config FILE]
//
// A ws:// or wss:// URL selects WebSocket (RFC 7395); http:// or https://
// selects BOSH (XEP-0124/0206). probe connects once, prints every event with
// the time since it began connecting, measures one XEP-0199 ping round trip,
// then disconnects cleanly and prints the phases of the attempt (lookup,
// TCP, TLS, WebSocket upgrade or BOSH session request, stream open, each
// SASL step, restart, bind, the <enable/> round trip), what the server
// offered, the mechanism used, the TLS version and certificate expiry, and
// the Jitsi properties. It never reconnects. With --count N it probes N
// times (--concurrency at once, one started every --interval at most), each
// on a cold connection, and prints per-phase percentiles and the failures by
// error type. watch takes the same flags and stays connected — pings,
// XEP-0198 resumption, reconnection — printing every event until SIGINT,
// which closes cleanly; it exits 1 when the connection is lost for good.
// discover lists the WebSocket and BOSH endpoints a domain publishes in
// host-meta (XEP-0156). exporter serves Prometheus metrics of probes in the
// style of blackbox_exporter (docs/operators.md).
//
// Flags:
//
//	--domain D          XMPP domain (default: the domain of --jid, else the URL host)
//	--jid JID           bare JID to log in as; without it, SASL ANONYMOUS
//	--password-env NAME read the password from environment variable NAME
//	--allow-plain       permit SASL PLAIN without TLS
//	--mechanisms LIST   comma-separated SASL mechanisms to allow, in order
//	--ca-file FILE      trust the CA certificates in this PEM file
//	--timeout D         give up connecting after D (default 30s)
//	--json              one JSON object per event on stdout
//	-v                  debug logs on stderr (never secrets)
//	--count N           probe: this many probes (default 1)
//	--concurrency C     probe: probes at once (default 1)
//	--interval D        probe: wait D between the starts of two probes
//
// Passwords are only read from the environment, never from a flag, and never
// printed. Exit status: 0 when the session was established and closed
// cleanly (every session, with --count), 1 when it failed, 2 for a usage
// error.
//
// With --json every line has "event" (the event string, e.g.
// "connection.connectionEstablished") and "elapsed_ms", plus the payload of
// the event: "state" and "from" for connection.stateChanged, "error",
// "reason" and "details" for connection.connectionFailed, "id", "jid" and
// "resumed" for connection.connectionEstablished. probe adds one
// "probe.result" line per probe ("phases_ms", "total_ms", "ping_ms",
// "mechanism", "offered", "tls_version", "cert_expiry", "properties", and
// "error" and "reason" when it failed) and, with --count, a last
// "probe.summary" line ("count", "failures" by error type, and "p50_ms",
// "p90_ms", "p99_ms", "max_ms" per phase, for the total and the ping).
package main
