// Package sasl2test holds the integration tests of xmppconn's SASL2 path
// (XEP-0388 with XEP-0386 Bind 2 and XEP-0198 inline), run on every server
// of the matrix (internal/servertest). Each Prosody loads mod_sasl2,
// mod_sasl2_bind2 and mod_sasl2_sm from its Debian prosody-modules: the
// 2023-02 snapshot with a test bridge on Prosody 0.12.3, the 2025-04 one as
// it is on Prosody 13 (never mod_sasl2_fast, which breaks every stream on
// 0.12.3). ejabberd 23.01 has no SASL2: there the same tests expect the RFC
// 6120 path. It is a package of its own because the servers shared by
// xmppconn's other tests must keep offering RFC 6120 SASL only. It also
// counts the round trips to CONNECTED of both paths (SASL2, and SASL with
// Config.SASL2.Disabled) through a delaying proxy, and measures connect
// latency at 50 ms RTT (TestConnectLatency, gated by XMPPCONN_LATENCY=1).
// A Prosody with the Debian modules only (no bridge) checks that Connect
// never hangs on them (TestSASL2DebianModulesFallback). It has no code
// outside its tests.
package sasl2test
