package servertest

import (
	"context"
	"testing"
	"time"
)

// waitPoll is how often WaitSession asks the server again.
const waitPoll = 10 * time.Millisecond

// waitSessionTimeout bounds WaitSession.
const waitSessionTimeout = 10 * time.Second

// WaitSession polls the server's view of the session of the full JID full
// until ok holds for it, and returns it. It fails the test, naming what, when
// the server does not show such a session within 10 s. It is for a state the
// client cannot see: whether the server enabled stream management, holds a
// BOSH request, or noticed that a connection is gone.
func (s *Server) WaitSession(t testing.TB, full, what string, ok func(SessionInfo) bool) SessionInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitSessionTimeout)
	defer cancel()
	tick := time.NewTicker(waitPoll)
	defer tick.Stop()
	var last []SessionInfo
	for {
		infos, err := s.SessionDetails(ctx, full)
		if err == nil && len(infos) == 1 && ok(infos[0]) {
			return infos[0]
		}
		if err == nil {
			last = infos
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %s: %s never seen within %v (last seen %+v, %v)", s.Kind, full, what, waitSessionTimeout, last, err)
			return SessionInfo{}
		case <-tick.C:
		}
	}
}

// WaitResumable waits until the server has enabled resumable stream
// management (XEP-0198) for the session of full: until then a cut leaves
// nothing to resume, and a kill races the client's <enable/>.
func (s *Server) WaitResumable(t testing.TB, full string) SessionInfo {
	t.Helper()
	return s.WaitSession(t, full, "resumable stream management", func(i SessionInfo) bool { return i.SM && i.Resumable })
}

// WaitHibernating waits until the server holds the session of full for
// resumption, its connection gone.
func (s *Server) WaitHibernating(t testing.TB, full string) SessionInfo {
	t.Helper()
	return s.WaitSession(t, full, "hibernation", func(i SessionInfo) bool { return i.Hibernating })
}
