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
// client CPU per connect, the heap allocations to the bound JID and
// Prosody's CPU per connect, and the ratios the acceptance of issue 7 asks
// for. Client CPU is the user+system time of this process (getrusage
// RUSAGE_SELF) from before the dial to after the close, summed over the
// samples of one client and divided by their number. The garbage
// collector's work lands in whichever sample it happens in; interleaving
// spreads it evenly.
//
// The server's cost is part of a client's: Prosody's CPU is its utime +
// stime (fields 14 and 15 of /proc/PID/stat, in 10 ms clock ticks) read
// before and after each measured phase. For a connect the phase ends once
// Prosody sleeps again after the close (so that the session's teardown is
// counted with it); the rounding to a tick averages out over the samples.
//
// Then, each measurement on a fresh Prosody (which slows down the longer it
// runs), the clients interleaved and the first rotating:
//
//   - self-send (-self, -self-runs): msgs messages from a session to its
//     own full JID, 100 in flight, for xmppconn over WebSocket (defaults),
//     mellium's raw WebSocket client and xmppconn over BOSH: messages per
//     second, Prosody's CPU per message and this process's, with the ratios
//     of each run;
//   - idle (-idle, -idle-runs): k sessions of one account held open,
//     Prosody's RSS (field 24 of /proc/PID/stat) and CPU per session:
//     (reading with k sessions − reading before) / k, for xmppconn over
//     WebSocket, mellium's raw WebSocket client and "xmppconn ws bare";
//   - iq (-iq, -iq-server): pings (XEP-0199) to the server, each sent once
//     the answer to the one before came, over WebSocket and over BOSH: the
//     round trip's median and p90 and the client's CPU per ping, on
//     Prosody 0.12 unless -iq-server names another server of the matrix;
//   - throughput (-msgs): from one session to another, WebSocket against
//     BOSH, with Prosody's defaults and with Nagle's algorithm off.
//
// Prosody runs with the test harness's configuration, except for
// smacks_max_queue_size, set back to Prosody's default (see
// prosodyDefaults). -count-sm prints the XEP-0198 requests and answers of
// xmppconn over WebSocket in each self-send run.
//
// Usage:
//
//	go run ./internal/cmd/benchcmp [-n 40] [-warmup 3] [-mech SCRAM-SHA-1,PLAIN]
//		[-self 5000] [-self-runs 3] [-idle 500] [-idle-runs 2] [-family-mech PLAIN]
//		[-iq 300] [-iq-server prosody12] [-msgs 20000] [-only NAME] [-count-sm]
package main
