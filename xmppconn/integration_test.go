package xmppconn_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// TestMain runs the integration tests once per server of the matrix
// (internal/servertest: Prosody 0.12, Prosody 13, ejabberd, as
// XMPPCONN_SERVER selects), each server started on first use.
func TestMain(m *testing.M) {
	servertest.Main(m, nil)
}

func TestIntegrationConnectMechanisms(t *testing.T) { servertest.Each(t, testConnectMechanisms) }

func testConnectMechanisms(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	mechs := []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "ANONYMOUS"}
	for _, ep := range servertest.Endpoints {
		for _, mech := range mechs {
			t.Run(ep.Name+"/"+mech, func(t *testing.T) {
				xmpptest.NoLeaks(t)
				cfg := xmpptest.ServerConfig(t, s, ep.URL(s))
				wantBare := user + "@" + s.Domain
				if mech == "ANONYMOUS" {
					cfg.Domain = s.AnonDomain
					wantBare = ""
				} else {
					cfg.Credentials = auth.Credentials{Username: user, Password: auth.NewSecret(pass)}
					cfg.Mechanisms = []string{mech}
					cfg.AllowPlain = mech == "PLAIN"
				}
				c := xmppconn.New(cfg)
				rec := xmpptest.Record(c)
				if err := c.Connect(xmpptest.Context(t)); err != nil {
					t.Fatalf("Connect: %v", err)
				}
				if got := c.State(); got != events.StateConnected {
					t.Fatalf("state after Connect = %v, want CONNECTED", got)
				}
				j := c.JID()
				if j.Resourcepart() == "" {
					t.Fatalf("bound JID %q has no resource", j)
				}
				if wantBare != "" && j.Bare().String() != wantBare {
					t.Errorf("bound JID %q, want %s/…", j, wantBare)
				}
				if mech == "ANONYMOUS" && j.Domainpart() != s.AnonDomain {
					t.Errorf("anonymous JID %q not on %s", j, s.AnonDomain)
				}
				xmpptest.Flush(t, c)
				est := rec.All()[len(rec.All())-1].(events.Established)
				if est.JID != j.String() || est.ID != j.Resourcepart() || est.Resumed {
					t.Errorf("Established = %+v, want jid %s", est, j)
				}
				if err := c.Disconnect(context.Background()); err != nil {
					t.Errorf("Disconnect: %v", err)
				}
				xmpptest.Flush(t, c)
				want := []string{"state:CONNECTING", "state:CONNECTED", "established", "state:CLOSING", "state:CLOSED", "disconnected"}
				if diff := cmp.Diff(want, rec.Names()); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
				if c.State() != events.StateClosed {
					t.Errorf("state after Disconnect = %v", c.State())
				}
			})
		}
	}
}

func TestIntegrationWrongPassword(t *testing.T) { servertest.Each(t, testWrongPassword) }

func testWrongPassword(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	for _, ep := range servertest.Endpoints {
		t.Run(ep.Name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			cfg := xmpptest.ServerConfig(t, s, ep.URL(s))
			wrong := pass + "-wrong"
			cfg.Credentials = auth.Credentials{Username: user, Password: auth.NewSecret(wrong)}
			c := xmppconn.New(cfg)
			rec := xmpptest.Record(c)
			err := c.Connect(xmpptest.Context(t))
			var f events.Failed
			if !errors.As(err, &f) {
				t.Fatalf("Connect error = %v, want events.Failed", err)
			}
			var fe *auth.FailureError
			if !errors.As(err, &fe) || !errors.Is(err, auth.ErrNotAuthorized) {
				t.Errorf("Connect error does not wrap the SASL not-authorized failure: %v", err)
			}
			xmpptest.Flush(t, c)
			fs := rec.Failures()
			if len(fs) != 1 {
				t.Fatalf("got %d ConnectionFailed, want 1: %v", len(fs), rec.Names())
			}
			if fs[0].Err != events.PasswordRequired || fs[0].Details.Condition != "not-authorized" {
				t.Errorf("failure = %s condition %q, want passwordRequired/not-authorized", fs[0].Err, fs[0].Details.Condition)
			}
			if fs[0].Reason == "" || fs[0].Reason == "not-authorized" && fe != nil && fe.Text != "" {
				t.Errorf("reason %q does not keep the server text %q", fs[0].Reason, fe.Text)
			}
			if c.State() != events.StateFailed {
				t.Errorf("state = %v, want FAILED", c.State())
			}
			for _, e := range rec.All() {
				if strings.Contains(fmtEvent(e), wrong) {
					t.Errorf("event %v shows the password", e)
				}
			}
			if strings.Contains(err.Error(), wrong) {
				t.Errorf("error text shows the password")
			}
			_ = c.Disconnect(context.Background())
		})
	}
}

func TestIntegrationClosedPort(t *testing.T) {
	xmpptest.NoLeaks(t)
	// A port that was just free and is now closed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	for _, scheme := range []string{"ws", "http"} {
		t.Run(scheme, func(t *testing.T) {
			c := xmppconn.New(xmppconn.Config{URL: scheme + "://127.0.0.1:" + strconv.Itoa(port) + "/xmpp", Domain: "localhost"})
			rec := xmpptest.Record(c)
			err := c.Connect(xmpptest.Context(t))
			if err == nil {
				t.Fatal("Connect to a closed port succeeded")
			}
			xmpptest.Flush(t, c)
			fs := rec.Failures()
			if len(fs) != 1 || fs[0].Err != events.OtherError {
				t.Fatalf("failures = %v, want one otherError", rec.Names())
			}
			want := []string{"state:CONNECTING", "state:FAILED", "failed:connection.otherError"}
			if diff := cmp.Diff(want, rec.Names()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// TestIntegrationServerKill: the server ends the session, with a stream
// error or by dropping the connection; with reconnection off the client
// reports one ConnectionFailed (droppedError) that carries the condition.
// On Prosody 13 this is also the test of its WebSocket <stream:error>, which
// comes without a declaration of the stream prefix: the client reads it all
// the same (internal/xmlframe.CheckLenient), so the condition arrives.
func TestIntegrationServerKill(t *testing.T) { servertest.Each(t, testServerKill) }

func testServerKill(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	cases := []struct {
		name, condition string
	}{
		{"dropped", ""},
		{"system-shutdown", "system-shutdown"},
		{"conflict", "conflict"},
		{"policy-violation", "policy-violation"},
	}
	for _, ep := range servertest.Endpoints {
		for _, tc := range cases {
			t.Run(ep.Name+"/"+tc.name, func(t *testing.T) {
				xmpptest.NoLeaks(t)
				cfg := xmpptest.ServerConfig(t, s, ep.URL(s))
				cfg.Credentials = xmpptest.Login(user, pass)
				cfg.Reconnect.Disabled = true // this test is about the loss itself
				// A plain Connection sends no stanza after CONNECTED. Were it
				// to (the Jitsi layer's properties query), the answer would
				// make Prosody ask for an ack, and if the client's <a/> is in
				// flight when Prosody closes the stream, Prosody's socket
				// closes with unread data, the RST it sends makes the
				// client's kernel drop the unread <stream:error>, and the
				// condition is lost with it.
				c := xmppconn.New(cfg)
				rec := xmpptest.Record(c)
				if err := c.Connect(xmpptest.Context(t)); err != nil {
					t.Fatalf("Connect: %v", err)
				}
				// Let the stream settle (stream management answered) so that
				// the kill does not race the client's <enable/>.
				s.WaitResumable(t, c.JID().String())
				n, err := s.KillSessions(xmpptest.Context(t), c.JID().String(), tc.condition)
				if err != nil || n != 1 {
					t.Fatalf("KillSessions = %d, %v", n, err)
				}
				rec.WaitFor(t, 20*time.Second, "ConnectionFailed", func(e events.Event) bool { return e.Type() == events.ConnectionFailed })
				if err := c.Disconnect(context.Background()); err != nil {
					t.Errorf("Disconnect after failure: %v", err)
				}
				xmpptest.Flush(t, c)
				fs := rec.Failures()
				if len(fs) != 1 {
					t.Fatalf("got %d ConnectionFailed, want 1: %v", len(fs), rec.Names())
				}
				if fs[0].Err != events.DroppedError {
					t.Errorf("error type = %s, want droppedError", fs[0].Err)
				}
				wantCond := tc.condition
				if tc.condition == "" && ep.BOSH {
					// A BOSH session has no connection of its own to lose:
					// the server forgets the sid and answers the client's
					// next request with terminate item-not-found (XEP-0124
					// §17.3), on every server of the matrix.
					wantCond = "item-not-found"
				}
				if fs[0].Details.Condition != wantCond {
					t.Errorf("condition = %q, want %q (reason %q, cause %v, details %+v)", fs[0].Details.Condition, wantCond, fs[0].Reason, fs[0].Cause, fs[0].Details)
				}
				want := []string{"state:CONNECTING", "state:CONNECTED", "established", "state:DISCONNECTED", "state:FAILED", "failed:connection.droppedError"}
				if diff := cmp.Diff(want, rec.Names()); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
			})
		}
	}
}
