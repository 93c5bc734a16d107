package xmppconn_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// quickRecovery makes reconnection attempts start at once.
func quickRecovery(cfg *xmppconn.Config) {
	cfg.Reconnect.Delay = func(int) time.Duration { return 10 * time.Millisecond }
	cfg.Ping.Timeout = time.Second // also bounds the wait for <resumed/>
}

// recoveredInOrder checks the events of a recovery: up, lost, one or more
// attempts, up again.
func recoveredInOrder(names []string) bool {
	head := []string{"state:CONNECTING", "state:CONNECTED", "established", "state:DISCONNECTED", "state:RECONNECTING"}
	if len(names) < len(head)+2 || !cmp.Equal(head, names[:len(head)]) {
		return false
	}
	rest := names[len(head):]
	for len(rest) > 2 && rest[0] == "state:DISCONNECTED" && rest[1] == "state:RECONNECTING" {
		rest = rest[2:]
	}
	return cmp.Equal([]string{"state:CONNECTED", "established"}, rest)
}

// TestIntegrationRecoverAfterKill: the server drops the session; the client
// comes back on its own, resuming it when the server kept it (a cut without
// a stream error: the server holds the session for resumption) and with a
// fresh session when it did not (system-shutdown).
//
// Prosody cannot resume a BOSH session (servertest.BOSHResumption): its
// mod_smacks takes the <resume/> and fails in the middle of it, before it
// answers (0.12.3 and 13.0.1 alike: it hands the old session the new one's
// rawsend, and a BOSH session has none). The test checks the client's way
// out there: the first attempt gives up waiting for <resumed/> after
// Ping.Timeout (a ResumeError, reported on DISCONNECTED), and the next one
// binds a fresh session.
func TestIntegrationRecoverAfterKill(t *testing.T) { servertest.Each(t, testRecoverAfterKill) }

func testRecoverAfterKill(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	cases := []struct {
		name, condition string
		resumed         bool
	}{
		{"cut", "", true},
		{"system-shutdown", "system-shutdown", false},
	}
	for _, ep := range servertest.Endpoints {
		for _, tc := range cases {
			t.Run(ep.Name+"/"+tc.name, func(t *testing.T) {
				xmpptest.NoLeaks(t)
				cfg := xmpptest.ServerConfig(t, s, ep.URL(s))
				cfg.Credentials = xmpptest.Login(user, pass)
				quickRecovery(&cfg)
				c := xmppconn.New(cfg)
				defer c.Disconnect(context.Background())
				rec := xmpptest.Record(c)
				if err := c.Connect(xmpptest.Context(t)); err != nil {
					t.Fatalf("Connect: %v", err)
				}
				first := c.JID()
				// Wait until the server confirmed stream management, or
				// there is nothing to resume.
				s.WaitResumable(t, first.String())
				if n, err := s.KillSessions(xmpptest.Context(t), first.String(), tc.condition); err != nil || n != 1 {
					t.Fatalf("KillSessions = %d, %v", n, err)
				}
				ev := rec.WaitForNth(t, 30*time.Second, "second ConnectionEstablished", 2, isEstablished)
				est := ev.(events.Established)
				if !recoveredInOrder(rec.Names()) {
					t.Fatalf("events of the recovery out of order: %v", rec.Names())
				}
				wantResumed := tc.resumed
				unanswered := tc.resumed && ep.BOSH && !s.Has(servertest.BOSHResumption)
				if unanswered {
					// Prosody: the resumption is never answered (see above).
					wantResumed = false
					checkResumeUnanswered(t, rec)
				}
				if est.Resumed != wantResumed {
					t.Errorf("Resumed = %t, want %t", est.Resumed, wantResumed)
				}
				if wantResumed && est.JID != first.String() {
					t.Errorf("resumed as %s, want the same full JID %s", est.JID, first)
				}
				if len(rec.Failures()) != 0 {
					t.Errorf("ConnectionFailed during a recovery: %v", rec.Names())
				}
			})
		}
	}
}

// checkResumeUnanswered checks the client's fallback from a <resume/> the
// server never answers: the first recovery attempt fails, and its reason
// names the resumption it waited for; the next attempt binds a fresh session
// (the caller checks that).
func checkResumeUnanswered(t *testing.T, rec *xmpptest.Recorder) {
	t.Helper()
	for _, e := range rec.All() {
		if sc, ok := e.(events.StateChange); ok && sc.Attempt == 1 && sc.State == events.StateDisconnected {
			if !strings.Contains(sc.Reason, "resume") {
				t.Errorf("attempt 1 failed with %s %q, want the unanswered resumption", sc.Err, sc.Reason)
			}
			return
		}
	}
	t.Errorf("attempt 1 did not fail (the resumption was answered?): %v", rec.Names())
}
