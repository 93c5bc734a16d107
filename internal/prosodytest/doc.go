// Package prosodytest is the compatibility layer over internal/servertest
// for the tests not yet converted to the server matrix: they keep running
// against Prosody 0.12 alone, with the API they were written for. New tests
// use servertest (servertest.Each runs a test per server of the matrix);
// this package goes once every caller has moved.
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
//
// Its tests skip when XMPPCONN_SERVER leaves prosody12 out.
package prosodytest
