// Command benchcmp runs xmppconn side by side with mellium's raw client
// against one throwaway local Prosody 0.12 (internal/servertest), so that the
// figures of docs/performance.md come from a single run on a single server.
// It is what `make bench` runs after the go test benchmarks; it is not a
// test and not a tool for real servers.
//
// For each SASL mechanism (SCRAM-SHA-1 and PLAIN) it connects the same
// account again and again, one client after the other (A, B, C, D, A, B, …),
// each time from nothing to a bound JID and then closing, the first client
// of each round rotating:
//
//   - xmppconn over WebSocket (ws://),
//   - mellium's raw client over WebSocket (mellium.im/xmpp/websocket),
//   - mellium's raw client over TCP c2s (xmpp.NewSession on a dialed
//     net.Conn: what xmpp.DialClientSession does once it has resolved the
//     address; the harness's c2s port is not on the SRV default),
//   - xmppconn over BOSH (http://),
//   - xmppconn over WebSocket doing only what mellium's raw client does
//     ("xmppconn ws bare": no stream management or pings).
//
// It prints, per client, the median and p95 time to the bound JID, the
// client CPU per connect and the heap allocations to the bound JID, and the
// ratios the acceptance of issue 7 asks for.
// Client CPU is the user+system time of this process (getrusage
// RUSAGE_SELF) from before the dial to after the close, summed over the
// samples of one client and divided by their number: Prosody runs in its
// own process and is not counted. The garbage collector's work lands in
// whichever sample it happens in; interleaving spreads it evenly.
//
// Usage:
//
//	go run ./internal/cmd/benchcmp [-n 40] [-warmup 3] [-mech SCRAM-SHA-1,PLAIN]
package main
