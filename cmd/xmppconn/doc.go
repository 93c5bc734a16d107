// Command xmppconn probes XMPP servers over WebSocket and BOSH and prints the
// connection lifecycle as Jitsi-style events.
//
// Usage:
//
//	xmppconn probe [flags] URL
//	xmppconn watch [flags] URL
//	xmppconn discover [flags] DOMAIN
//
// A ws:// or wss:// URL selects WebSocket (RFC 7395); http:// or https://
// selects BOSH (XEP-0124/0206). probe connects once, prints every event with
// the time since it began connecting, then disconnects cleanly. It never
// reconnects. watch takes the same flags and stays connected — pings,
// XEP-0198 resumption, reconnection — printing every event until SIGINT,
// which closes cleanly; it exits 1 when the connection is lost for good.
// discover lists the WebSocket and BOSH endpoints a domain publishes in
// host-meta (XEP-0156).
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
//
// Passwords are only read from the environment, never from a flag, and never
// printed. Exit status: 0 when the session was established and closed
// cleanly, 1 when it failed, 2 for a usage error.
//
// With --json every line has "event" (the event string, e.g.
// "connection.connectionEstablished") and "elapsed_ms", plus the payload of
// the event: "state" and "from" for connection.stateChanged, "error",
// "reason" and "details" for connection.connectionFailed, "id", "jid" and
// "resumed" for connection.connectionEstablished.
package main
