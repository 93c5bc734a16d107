// Package soak holds the soak test of xmppconn: many sessions against a
// fresh local Prosody for a long time, with pings, message traffic and
// periodic cuts of the network through internal/faultproxy, checking that
// no session ends FAILED, no message is lost, and the client's goroutines,
// heap and RSS stay flat. It is opt-in (XMPPCONN_SOAK=10m, `make soak`),
// never part of `make test`; docs/soak.md has the commands and a run's
// figures.
package soak
