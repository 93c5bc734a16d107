package prosodytest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/xmppconn/xmppconn/internal/prosodytest"
)

// A test package normally uses Main and Require; Start is for a server of
// one's own, here one whose stream-management sessions hibernate for 5 s.
func ExampleStart() {
	ctx := context.Background()
	srv, err := prosodytest.Start(ctx, &prosodytest.Options{HibernationTime: 5})
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
	srv := &prosodytest.Server{HTTPPort: 5280, HTTPSPort: 5281}
	fmt.Println(srv.WebSocketURL(false))
	fmt.Println(srv.WebSocketURL(true))
	fmt.Println(srv.BOSHURL(true))
	// Output:
	// ws://127.0.0.1:5280/xmpp-websocket
	// wss://127.0.0.1:5281/xmpp-websocket
	// https://127.0.0.1:5281/http-bind
}
