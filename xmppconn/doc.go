// Package xmppconn is the XMPP connection a bot uses: it dials a server over
// WebSocket (RFC 7395) or BOSH (XEP-0124/0206), authenticates with SASL,
// binds a resource, and reports the whole lifecycle as the Jitsi-style
// connection events and states of package events.
//
// A Connection ties a transport, the auth package and the events vocabulary
// together and owns the lifecycle. Once connected it hands out the negotiated
// *mellium.im/xmpp.Session (Connection.Session), so higher-level XEPs from
// mellium work on top of it unchanged. It is not an XMPP server, nor a
// stanza library: stanzas are built and routed with mellium.
//
// An idle session is cheap: about 29 KiB over WebSocket and 43 KiB over BOSH
// (docs/performance.md); it keeps one goroutine over WebSocket (the read)
// and three over BOSH (the held request and net/http's two for its
// connection). The read loop hands elements to a processor goroutine that
// exists only while elements wait; Config.Handler runs the same way; the
// keepalive is a timer; the mellium session is made on the first call to
// Session.
//
// A minimal bot:
//
//	c := xmppconn.New(xmppconn.Config{
//		URL:         "wss://meet.example.com/xmpp-websocket",
//		Credentials: auth.Credentials{Username: "bot", Password: auth.NewSecret(pw)},
//	})
//	c.On(events.ConnectionFailed, func(e events.Event) { log.Print(e) })
//	if err := c.Connect(ctx); err != nil {
//		return err // an events.Failed
//	}
//	defer c.Disconnect(context.Background())
//
// The URL scheme selects the transport: ws:// and wss:// speak WebSocket,
// http:// and https:// speak BOSH.
//
// The package is plain XMPP. Packages built on top of it join a
// Connection's lifecycle through Extend (an Extension's callbacks see the
// inbound stanzas, the endpoint's HTTP responses, the stream coming up and
// going down) and use its public methods (SendIQ, Go, Emit, Fail, Ended):
// xmppconn/muc joins rooms (XEP-0045), and xmppconn/jitsi adds what a Jitsi
// Meet deployment needs (properties, lobby, conference requests, shard
// moves). A plain Connection sends nothing of theirs:
//
//	meet := jitsi.Attach(c, jitsi.Config{}) // a Jitsi bot adds this line
//
// When the server offers SASL2 (XEP-0388), the client authenticates, binds
// with Bind 2 (XEP-0386) and enables or resumes stream management (XEP-0198)
// in one exchange, without a stream restart: a SCRAM login takes 4 round
// trips over WebSocket and 3 over BOSH instead of 6 and 5, and a resumption
// as many as a login. Config.SASL2 turns it off. A server that leaves SASL2
// unanswered for Config.Ping.Timeout is logged into again at once with RFC
// 6120 SASL on a fresh transport, and the Connection does not try SASL2
// there again (see ErrSASL2NoAnswer).
package xmppconn
