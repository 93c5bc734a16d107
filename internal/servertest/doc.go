// Package servertest runs real, throwaway XMPP servers for integration
// tests, one of each kind of the test matrix:
//
//	Prosody12  Prosody 0.12.3 from Debian bookworm (make prosody)
//	Prosody13  Prosody 13.0.1 from bookworm-backports, unpacked in the cache (make prosody13)
//	Ejabberd   ejabberd 23.01 from Debian bookworm (make ejabberd)
//
// Each server gets a private configuration rendered from a template in
// testdata/ (prosody/prosody.cfg.lua.tmpl, ejabberd/ejabberd.yml.tmpl), a
// data directory, a CA and loopback ports, all in one temporary directory;
// WebSocket and BOSH on HTTP and HTTPS; a password domain (localhost), an
// anonymous domain and a MUC service; and test-only control endpoints to
// create accounts, list sessions and kill them from the server side
// (AddUser, Sessions, SessionDetails, KillSessions). No server is ever run
// as a system service, and none reads /etc. It is for this repository's
// tests and demo only, and no model for configuring a real server.
//
// A test package runs its servers from TestMain; a test runs once per
// server selected by XMPPCONN_SERVER (default: all three), each server
// started on first use and stopped when the package's tests end:
//
//	func TestMain(m *testing.M) { servertest.Main(m, nil) }
//
//	func TestLogin(t *testing.T) {
//		servertest.Each(t, func(t *testing.T, srv *servertest.Server) {
//			user, password := srv.NewUser(t)
//			// dial srv.WebSocketURL(false) or srv.BOSHURL(true) with srv.HTTPClient() ...
//			n, err := srv.KillSessions(ctx, user+"@"+srv.Domain, "system-shutdown")
//		})
//	}
//
// Every server serves the same Endpoints (ws, wss, bosh-http, bosh-https) at
// the same paths, so a table over them runs unchanged on each; WaitSession
// and its shorthands wait for what only the server sees (stream management
// enabled, a session hibernating).
//
// Where the servers differ, a test says so: a Feature names what a kind
// lacks and why (a server bug or a missing piece). EachWith runs a test
// only where its subject exists, skipping the others with the reason;
// Kind.Has lets a test expect something else, in a commented branch.
// docs/servers.md lists the differences and the tests that check them.
//
// A selected server that is missing skips its tests, with how to install
// it; XMPPCONN_REQUIRE_PROSODY=1 (set by CI) makes that, and a server that
// fails to start, a failure instead. -short skips everything that needs a
// server. XMPPCONN_SERVER_DEBUG=1 turns on the servers' debug logs.
package servertest
