// Package faultproxy is a loopback TCP proxy for tests that injects network
// faults between a client and a real server (Prosody on 127.0.0.1): it cuts
// connections with FIN or RST, blackholes them (bytes read and dropped,
// nothing closed), adds latency, refuses new connections, and counts dials,
// open connections and client "flights" so reconnection and XEP-0198
// resumption can be tested over WebSocket and BOSH (where HTTP keep-alive
// holds several TCP connections at once). It is not a general purpose proxy:
// it listens on 127.0.0.1 only, knows nothing of HTTP, TLS or XMPP, and is
// internal because its API follows what the tests need.
//
// In front of a server, cutting the network under a connected client:
//
//	p, err := faultproxy.Start("127.0.0.1:5280")
//	if err != nil {
//		t.Fatal(err)
//	}
//	defer p.Close()
//	url := "ws://" + p.Addr() + "/xmpp-websocket"
//	// ... connect the client to url, then:
//	p.Blackhole() // the client's pings go unanswered
//	p.Restore()   // the client reconnects and resumes through the proxy
//	err = p.WaitConns(ctx, 2)
package faultproxy
