// Package jitsi is the Jitsi Meet layer on top of an xmppconn.Connection:
// what a bot needs besides plain XMPP when it joins a Jitsi deployment. It
// reads the deployment's properties (the push Jitsi's Prosody sends from
// inside resource binding, or a disco#info query of the domain when none
// came) and reports them as PropertiesUpdated; it keeps the STUN/TURN
// services of the push; it finds the lobby and reports DisplayNameRequired;
// it asks the focus (Jicofo) for a conference; and it watches the shard the
// session lives on (the x-jitsi-shard header of the deployment's HTTP
// responses), ending a session whose shard moved, since its state is gone
// with the old shard. It knows nothing of transports or reconnection: it
// uses only the Connection's public API and its Extension hooks, and the
// core never imports it.
//
// A Jitsi bot adds one line to a plain one:
//
//	c := xmppconn.New(xmppconn.Config{URL: "wss://meet.example.com/xmpp-websocket"})
//	meet := jitsi.Attach(c, jitsi.Config{}) // before Connect
//	if err := c.Connect(ctx); err != nil {
//		return err
//	}
//	conf, err := meet.ConferenceRequest(ctx, room, nil)
//
// Rooms themselves are plain XEP-0045 (package xmppconn/muc); this package
// adds what Jitsi adds to joining one: DisplayNameRequired when a lobby
// refuses a join for want of a display name (ErrDisplayNameRequired).
package jitsi
