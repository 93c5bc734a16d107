package sasl2test_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// checkSASL2 checks that stream i was negotiated with SASL2 (with a
// mechanism whose name starts with mech), Bind 2 and stream management
// inline: no RFC 6120 <auth/>, no bind IQ, no restart.
func checkSASL2(t *testing.T, tp *tap, i int, mech string, wantSM bool) {
	t.Helper()
	w := tp.wire(i)
	if !strings.Contains(w, "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='"+mech) {
		t.Errorf("stream %d: no SASL2 <authenticate mechanism=%s…>:\n%s", i, mech, w)
	}
	if !strings.Contains(w, "<bind xmlns='urn:xmpp:bind:0'><tag>xmppconn</tag>") {
		t.Errorf("stream %d: no Bind 2 request with the default tag:\n%s", i, w)
	}
	if got := strings.Contains(w, "<enable xmlns='urn:xmpp:sm:3'"); got != wantSM {
		t.Errorf("stream %d: inline <enable/> sent = %t, want %t", i, got, wantSM)
	}
	for _, bad := range []string{"urn:ietf:params:xml:ns:xmpp-sasl", "urn:ietf:params:xml:ns:xmpp-bind"} {
		if strings.Contains(w, bad) {
			t.Errorf("stream %d: client used %s with SASL2 on offer:\n%s", i, bad, w)
		}
	}
	if _, restarts := tp.count(); restarts != 0 {
		t.Errorf("%d stream restarts, want none with SASL2", restarts)
	}
}

// checkRFC6120 checks that stream i logged in with RFC 6120 SASL (with
// mech, unless it is ""), a restart and a bind IQ, and no SASL2.
func checkRFC6120(t *testing.T, tp *tap, i int, mech string) {
	t.Helper()
	w := tp.wire(i)
	if !strings.Contains(w, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='"+mech) {
		t.Errorf("stream %d: no RFC 6120 <auth mechanism=%s…>:\n%s", i, mech, w)
	}
	if strings.Contains(w, "urn:xmpp:sasl:2") || !strings.Contains(w, "urn:ietf:params:xml:ns:xmpp-bind") {
		t.Errorf("stream %d: want RFC 6120 SASL and bind, no SASL2:\n%s", i, w)
	}
	if _, restarts := tp.count(); restarts != 1 {
		t.Errorf("%d stream restarts, want 1 with RFC 6120 SASL", restarts)
	}
}

// TestSASL2Mechanisms: every mechanism reaches CONNECTED over WebSocket and
// BOSH with SASL2 + Bind 2, with the same events as the RFC 6120 path, and
// with a resource made of the tag. Where SASL2 is missing (ejabberd 23.01)
// the same logins take the RFC 6120 path, with the same events.
func TestSASL2Mechanisms(t *testing.T) { servertest.Each(t, testSASL2Mechanisms) }

func testSASL2Mechanisms(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	for _, ep := range endpoints {
		for _, mech := range []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "ANONYMOUS"} {
			t.Run(ep.name+"/"+mech, func(t *testing.T) {
				noLeaks(t)
				cfg, tp := config(t, s, ep.url(s))
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
				rec := record(c)
				if err := c.Connect(connectCtx(t)); err != nil {
					t.Fatalf("Connect: %v", err)
				}
				j := c.JID()
				if wantBare != "" && j.Bare().String() != wantBare {
					t.Errorf("bound JID %q, want %s/…", j, wantBare)
				}
				if s.Has(servertest.SASL2) {
					if !strings.HasPrefix(j.Resourcepart(), "xmppconn") {
						t.Errorf("bound JID %q, want a resource that starts with the tag", j)
					}
					checkSASL2(t, tp, 0, mech, true)
				} else {
					checkRFC6120(t, tp, 0, mech)
				}
				flush(t, c)
				if est, ok := rec.all()[len(rec.all())-1].(events.Established); !ok || est.JID != j.String() || est.Resumed {
					t.Errorf("last event %v, want Established for %s", rec.all()[len(rec.all())-1], j)
				}
				if err := c.Disconnect(context.Background()); err != nil {
					t.Errorf("Disconnect: %v", err)
				}
				flush(t, c)
				want := []string{"state:CONNECTING", "state:CONNECTED", "established", "state:CLOSING", "state:CLOSED", "connection.connectionDisconnected"}
				if diff := cmp.Diff(want, rec.names()); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestSASL2Disabled: the config switch keeps the RFC 6120 path on a server
// that offers SASL2.
func TestSASL2Disabled(t *testing.T) { servertest.Each(t, testSASL2Disabled) }

func testSASL2Disabled(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	noLeaks(t)
	cfg, tp := config(t, s, s.WebSocketURL(false))
	cfg.Credentials = auth.Credentials{Username: user, Password: auth.NewSecret(pass)}
	cfg.SASL2.Disabled = true
	c := xmppconn.New(cfg)
	defer c.Disconnect(context.Background())
	if err := c.Connect(connectCtx(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	w := tp.wire(0)
	if strings.Contains(w, "urn:xmpp:sasl:2") || !strings.Contains(w, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl'") {
		t.Errorf("SASL2 used although disabled:\n%s", w)
	}
	if _, restarts := tp.count(); restarts != 1 {
		t.Errorf("%d restarts, want 1 with RFC 6120 SASL", restarts)
	}
}

// TestSASL2ExplicitResource: with Config.Resource the client authenticates
// with SASL2 but binds the resource it was asked for, on the features the
// server sends after <success/> (RFC 6120 throughout without SASL2).
func TestSASL2ExplicitResource(t *testing.T) { servertest.Each(t, testSASL2ExplicitResource) }

func testSASL2ExplicitResource(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	for _, ep := range endpoints {
		t.Run(ep.name, func(t *testing.T) {
			noLeaks(t)
			cfg, tp := config(t, s, ep.url(s))
			cfg.Credentials = auth.Credentials{Username: user, Password: auth.NewSecret(pass)}
			cfg.Resource = "desk-" + ep.name
			c := xmppconn.New(cfg)
			defer c.Disconnect(context.Background())
			if err := c.Connect(connectCtx(t)); err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if got := c.JID().Resourcepart(); got != cfg.Resource {
				t.Errorf("resource %q, want %q", got, cfg.Resource)
			}
			w := tp.wire(0)
			if !s.Has(servertest.SASL2) {
				checkRFC6120(t, tp, 0, "")
			} else if !strings.Contains(w, "urn:xmpp:sasl:2") || strings.Contains(w, "urn:xmpp:bind:0") || !strings.Contains(w, "urn:ietf:params:xml:ns:xmpp-bind") {
				t.Errorf("want SASL2 then an RFC 6120 bind:\n%s", w)
			}
		})
	}
}

// TestSASL2WrongPassword: a refused password ends in exactly one
// ConnectionFailed with passwordRequired, over every transport.
func TestSASL2WrongPassword(t *testing.T) { servertest.Each(t, testSASL2WrongPassword) }

func testSASL2WrongPassword(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	for _, ep := range endpoints {
		t.Run(ep.name, func(t *testing.T) {
			noLeaks(t)
			cfg, tp := config(t, s, ep.url(s))
			wrong := pass + "-wrong"
			cfg.Credentials = auth.Credentials{Username: user, Password: auth.NewSecret(wrong)}
			c := xmppconn.New(cfg)
			rec := record(c)
			err := c.Connect(connectCtx(t))
			var f events.Failed
			if !errors.As(err, &f) {
				t.Fatalf("Connect error = %v, want events.Failed", err)
			}
			if !errors.Is(err, auth.ErrNotAuthorized) {
				t.Errorf("Connect error does not wrap not-authorized: %v", err)
			}
			if got := strings.Contains(tp.wire(0), "urn:xmpp:sasl:2"); got != s.Has(servertest.SASL2) {
				t.Errorf("SASL2 used = %t, want %t (offered):\n%s", got, s.Has(servertest.SASL2), tp.wire(0))
			}
			flush(t, c)
			fs := rec.failures()
			if len(fs) != 1 {
				t.Fatalf("got %d ConnectionFailed, want 1: %v", len(fs), rec.names())
			}
			if fs[0].Err != events.PasswordRequired || fs[0].Details.Condition != "not-authorized" {
				t.Errorf("failure = %s condition %q, want passwordRequired/not-authorized", fs[0].Err, fs[0].Details.Condition)
			}
			want := []string{"state:CONNECTING", "state:FAILED", "failed:connection.passwordRequired"}
			if diff := cmp.Diff(want, rec.names()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), wrong) || strings.Contains(fs[0].Reason, wrong) {
				t.Errorf("the password shows in the error or the event")
			}
			_ = c.Disconnect(context.Background())
		})
	}
}
