// Package muc joins multi-user chat rooms (XEP-0045) on an
// xmppconn.Connection. It is plain XMPP: the Jitsi layer
// (package xmppconn/jitsi) adds its own parts of joining on top (the
// display name a lobby asks for), and this package knows nothing of them. It
// is not a full XEP-0045 client: it joins and leaves rooms, asks for the
// history it wants, and joins them again after a reconnect that could not
// resume the session; for room configuration, invitations and moderation
// use mellium.im/xmpp/muc on Connection.Session.
//
// Why not mellium's muc for joining too: its Client answers joins from a
// mux handler of a mellium session, which a Connection makes only when
// Session is called (it costs an idle bot about half its memory), and it
// offers no rejoin after a fresh session. This package watches presences
// through the Connection's Extension hooks instead.
//
//	rooms := muc.New(c, muc.Config{}) // once per Connection, before Connect
//	r, err := rooms.Join(ctx, jid.MustParse("team@conference.example.com"), "bot", nil)
//	switch {
//	case errors.Is(err, muc.ErrPasswordRequired):
//		// ask for the password
//	case err != nil:
//		return err // a *muc.JoinError names the room's stanza error
//	}
//	log.Printf("joined %s as %s (%s)", r.JID, r.Nick, r.Role)
package muc
