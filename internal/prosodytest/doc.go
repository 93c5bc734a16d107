// Package prosodytest runs a real, throwaway Prosody 0.12 for integration
// tests: a private configuration, data directory, CA and loopback ports per
// server, WebSocket and BOSH on HTTP and HTTPS, a password domain, an
// anonymous domain and a MUC component, and test-only HTTP endpoints
// (testdata/prosody/modules/mod_xmppconn_test.lua) to create accounts, list
// sessions and kill them from the server side. It is for this repository's
// tests and demo only; it never touches a system-wide Prosody and is no model
// for configuring a real server.
//
// A test package starts one server in TestMain and asks for it in each test:
//
//	func TestMain(m *testing.M) { prosodytest.Main(m, nil) }
//
//	func TestLogin(t *testing.T) {
//		srv := prosodytest.Require(t) // skips when prosody is not installed
//		if err := srv.AddUser(ctx, "alice", "secret"); err != nil {
//			t.Fatal(err)
//		}
//		// dial srv.WebSocketURL(false) or srv.BOSHURL(true) with srv.HTTPClient() ...
//		n, err := srv.KillSessions(ctx, "alice@localhost", "system-shutdown")
//	}
package prosodytest
