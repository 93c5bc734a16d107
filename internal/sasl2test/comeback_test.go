package sasl2test_test

import "github.com/xmppconn/xmppconn/internal/servertest"

// comeback is how a session whose connection the server dropped comes
// back, over WebSocket ("ws") or BOSH ("bosh"), on one server: inline in
// <authenticate/> where the server offers SASL2.
type comeback struct {
	resumed  bool // Established.Resumed of the second login
	streams  int  // streams the client opened, the first login's included
	restarts int  // stream restarts over all of them
	// trips is the round trips from RECONNECTING to CONNECTED again
	// (TestResumeRoundTrips); 0 when a wait on the server's silence, not the
	// protocol, sets the time.
	trips int
	// inline: the second stream carries <resume/> inside <authenticate/>.
	inline bool
}

func comebackOf(s *servertest.Server, ep string) comeback {
	switch {
	case !s.Has(servertest.SASL2):
		// ejabberd 23.01: RFC 6120 SASL, a restart and <resume/> on the
		// second stream, as on the first a login: SCRAM over WebSocket is
		// upgrade, open, auth, response, restart, resume; over BOSH the
		// session request opens the stream. ejabberd resumes over BOSH too.
		if ep == "ws" {
			return comeback{resumed: true, streams: 2, restarts: 2, trips: 6}
		}
		return comeback{resumed: true, streams: 2, restarts: 2, trips: 5}
	case ep == "ws":
		// As many round trips as a SCRAM login with SASL2 (upgrade, open,
		// authenticate, response).
		return comeback{resumed: true, streams: 2, trips: 4, inline: true}
	case s.Kind == servertest.Prosody12:
		// Prosody 0.12.3 cannot resume a BOSH session; the test bridge
		// answers the inline <resume/> with <failed/>, and the Bind 2 bind
		// of the same exchange binds a new session with the same full JID
		// (the user agent id is stable per Connection), in the count of a
		// login.
		return comeback{streams: 2, trips: 3, inline: true}
	default:
		// Prosody 13.0.1: mod_smacks crashes on the inline <resume/> over
		// BOSH (session.rawsend is nil) and never answers. After
		// Config.Ping.Timeout the client logs in again with RFC 6120 SASL
		// on a fresh BOSH session, and keeps to it on that Connection.
		return comeback{streams: 3, restarts: 1, inline: true}
	}
}
