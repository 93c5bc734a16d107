package xmppconn_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/prosodytest"
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
// a stream error: Prosody hibernates the session) and with a fresh session
// when it did not (system-shutdown).
func TestIntegrationRecoverAfterKill(t *testing.T) {
	s := prosodytest.Require(t)
	user, pass := s.NewUser(t)
	cases := []struct {
		name, condition string
		resumed         bool
	}{
		{"cut", "", true},
		{"system-shutdown", "system-shutdown", false},
	}
	for _, ep := range endpoints {
		for _, tc := range cases {
			t.Run(ep.name+"/"+tc.name, func(t *testing.T) {
				xmpptest.NoLeaks(t)
				cfg := baseConfig(t, s, ep.url(s))
				cfg.Credentials = auth.Credentials{Username: user, Password: auth.NewSecret(pass)}
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
				waitSM(t, s, first.String())
				if n, err := s.KillSessions(xmpptest.Context(t), first.String(), tc.condition); err != nil || n != 1 {
					t.Fatalf("KillSessions = %d, %v", n, err)
				}
				ev := rec.WaitForNth(t, 30*time.Second, "second ConnectionEstablished", 2, func(e events.Event) bool {
					return e.Type() == events.ConnectionEstablished
				})
				est := ev.(events.Established)
				if !recoveredInOrder(rec.Names()) {
					t.Fatalf("events of the recovery out of order: %v", rec.Names())
				}
				wantResumed := tc.resumed
				if strings.HasPrefix(ep.name, "bosh") {
					// Prosody 0.12's mod_smacks fails while resuming a BOSH
					// session (it indexes the BOSH session's missing rawsend
					// and never answers): the client gives up waiting after
					// Ping.Timeout and falls back to a fresh session.
					wantResumed = false
				}
				if est.Resumed != wantResumed {
					t.Errorf("Resumed = %t, want %t", est.Resumed, wantResumed)
				}
				if tc.resumed && est.JID != first.String() {
					t.Errorf("resumed as %s, want the same full JID %s", est.JID, first)
				}
				if len(rec.Failures()) != 0 {
					t.Errorf("ConnectionFailed during a recovery: %v", rec.Names())
				}
			})
		}
	}
}

// waitSM waits until Prosody reports stream management enabled and
// resumable for the session.
func waitSM(t *testing.T, s *prosodytest.Server, full string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		infos, err := s.SessionDetails(ctx, full)
		if err != nil {
			t.Fatalf("SessionDetails: %v", err)
		}
		if len(infos) == 1 && infos[0].SM && infos[0].Resumable {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("stream management never enabled for %s: %+v", full, infos)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
