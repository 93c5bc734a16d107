package servertest_test

import (
	"context"
	"fmt"
	"log"
	"testing"

	"github.com/xmppconn/xmppconn/internal/servertest"
)

// A test runs once per server of the matrix: Each gives each subtest the
// package's server of one kind, started on first use by Main.
func ExampleEach() {
	testLogin := func(t *testing.T) {
		servertest.Each(t, func(t *testing.T, srv *servertest.Server) {
			user, password := srv.NewUser(t)
			// false on ejabberd 23.01; srv.Kind.Lacks(servertest.SASL2) says why
			wantSASL2 := srv.Has(servertest.SASL2)
			// ... log in as user@srv.Domain over srv.WebSocketURL(false),
			// expecting SASL2 or RFC 6120 SASL on the wire, then cut the
			// connection from the server's side:
			_, _ = password, wantSASL2
			if _, err := srv.KillSessions(context.Background(), user+"@"+srv.Domain, ""); err != nil {
				t.Fatal(err)
			}
		})
	}
	_ = testLogin
}

// Start is for a server of one's own, here a Prosody 13 whose
// stream-management sessions wait 5 s for a resumption.
func ExampleStart() {
	ctx := context.Background()
	srv, err := servertest.Start(ctx, servertest.Prosody13, &servertest.Options{ResumeTimeout: 5})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()
	if err := srv.AddUser(ctx, "alice", "secret"); err != nil {
		log.Fatal(err)
	}
	fmt.Println("dial", srv.WebSocketURL(true), "as alice@"+srv.Domain)
	// ... log in, then cut the connection from the server's side:
	n, err := srv.KillSessions(ctx, "alice@"+srv.Domain, "")
	fmt.Println(n, err)
}

func ExampleServer_WebSocketURL() {
	srv := &servertest.Server{HTTPPort: 5280, HTTPSPort: 5281}
	fmt.Println(srv.WebSocketURL(false))
	fmt.Println(srv.WebSocketURL(true))
	fmt.Println(srv.BOSHURL(true))
	// Output:
	// ws://127.0.0.1:5280/xmpp-websocket
	// wss://127.0.0.1:5281/xmpp-websocket
	// https://127.0.0.1:5281/http-bind
}
