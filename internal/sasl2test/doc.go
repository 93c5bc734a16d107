// Package sasl2test holds the integration tests of xmppconn's SASL2 path
// (XEP-0388 with XEP-0386 Bind 2 and XEP-0198 inline) against a Prosody of
// its own that loads mod_sasl2, mod_sasl2_bind2 and mod_sasl2_sm from the
// Debian prosody-modules package (never mod_sasl2_fast, which breaks every
// stream on Prosody 0.12.3). It is a package of its own because the server
// shared by xmppconn's other tests must keep offering RFC 6120 SASL only.
// It also counts the round trips to CONNECTED of both paths (SASL2, and
// SASL with Config.SASL2.Disabled) through a delaying proxy, and measures
// connect latency at 50 ms RTT (TestConnectLatency, gated by
// XMPPCONN_LATENCY=1). A second Prosody with the Debian modules only (no
// bridge) checks the fallback to RFC 6120 SASL when SASL2 is left
// unanswered (TestSASL2DebianModulesFallback). It has no code outside its
// tests.
package sasl2test
