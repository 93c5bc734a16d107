// Package hostile holds in-process servers that misbehave on purpose, and
// the suite that proves no broken or hostile server can exhaust the
// client's memory, CPU or time, or make a secret show.
//
// The servers speak XMPP over WebSocket (RFC 7395, coder/websocket on
// httptest) and BOSH (XEP-0124/0206 on httptest), both over TLS with a
// throwaway CA (NewCA), and raw TCP for what happens below HTTP (RawServer:
// a TLS handshake that stalls, an upgrade answered one byte at a time). A
// Script plays the server through a Peer, so that one behaviour runs over
// both transports; the transport-specific tricks (close codes, HTTP
// statuses, a response that never completes) are options of each server.
//
// The suite (the package's tests) runs every case with a short
// configuration: Ping.Timeout 300 ms, Reconnect.AttemptTimeout 2 s. A
// failed first Connect must return within the bound of the step that
// stalled (Ping.Timeout for an answer of the server, twice that for the
// dial, the TLS handshake and the upgrade) plus a slack for a loaded
// machine, with exactly one connection.connectionFailed, in state FAILED.
// The password and a token are planted so that the servers can echo them;
// neither may show in the error (nor in any error it wraps), in an event
// marshalled to JSON, or in the debug logs. No goroutine may outlive a case
// (go.uber.org/goleak), and the live heap (what runtime.GC found live,
// sampled every 50 ms: neither the partly used spans that hold the objects
// nor what was allocated since) may not grow by more than 16 MiB during a
// case (20 MiB over BOSH): the ceiling for one connection with default
// settings (1 MiB elements). A flood is two and a half times 16 MiB (or
// what 3 s, 5 s over BOSH, let through), so that a client that keeps what
// it is sent breaks the ceiling.
//
// Cases run one at a time: the goroutine and heap checks need the process
// to themselves.
package hostile
