package tokentest

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rawJWT returns a JWT whose payload is the JSON text claims.
func rawJWT(claims string) string {
	b := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	return b(`{"alg":"HS256","typ":"JWT"}`) + "." + b(claims) + "." + b("sig")
}

func TestTokenWebSocket(t *testing.T) {
	servertest.EachWith(t, servertest.ProsodyModules, testTokenWebSocket)
}

func testTokenWebSocket(t *testing.T, srv *servertest.Server) {
	now := time.Now()
	cases := []struct {
		name      string
		domain    string
		query     string
		condition string // empty: success
		text      string
		expired   bool // auth.TokenExpiredFailure
	}{
		{"valid token", tokenDomain, query(token(t, now.Add(time.Hour)), ""), "", "", false},
		{"valid token, other parameters kept", tokenDomain, "room=daily&" + query(token(t, now.Add(time.Hour)), "") + "&x=1", "", "", false},
		{"expired token", tokenDomain, query(token(t, now.Add(-time.Minute)), ""), "not-allowed", "token expired", true},
		{"no token", tokenDomain, "", "not-allowed", "token required", false},
		{"empty token", tokenDomain, "token=", "not-allowed", "token required", false},
		{"not a JWT", tokenDomain, "token=opaque-value", "not-allowed", "token invalid", false},
		{"JWT without exp", tokenDomain, "token=" + rawJWT(`{"room":"*"}`), "not-allowed", "token invalid: no exp", false},
		{"JWT with exp as string", tokenDomain, "token=" + rawJWT(`{"exp":"tomorrow"}`), "not-allowed", "token invalid: no exp", false},
		{"credentials-expired host", "token2.localhost", query(token(t, now.Add(-time.Minute)), ""), "credentials-expired", "token expired", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			c := dialWS(ctx, t, srv, tc.query)
			fe := c.authenticate(tc.domain)
			if tc.condition == "" {
				if fe != nil {
					t.Fatalf("SASL failed: %v", fe)
				}
				full := c.bind(tc.domain)
				if j, err := jid.Parse(full); err != nil || j.Domainpart() != tc.domain || j.Localpart() == "" {
					t.Errorf("bound JID %q, want user@%s/resource", full, tc.domain)
				}
				return
			}
			if fe == nil {
				t.Fatal("SASL succeeded, want a failure")
			}
			if fe.Condition != tc.condition || fe.Text != tc.text {
				t.Errorf("failure %q / %q, want %q / %q", fe.Condition, fe.Text, tc.condition, tc.text)
			}
			if got := auth.TokenExpiredFailure(fe); got != tc.expired {
				t.Errorf("auth.TokenExpiredFailure(%v) = %v, want %v", fe, got, tc.expired)
			}
		})
	}
}

func TestTokenBOSH(t *testing.T) { servertest.EachWith(t, servertest.ProsodyModules, testTokenBOSH) }

func testTokenBOSH(t *testing.T, srv *servertest.Server) {
	now := time.Now()
	cases := []struct {
		name, query, want, text string
	}{
		{"valid token", query(token(t, now.Add(time.Hour)), ""), "success", ""},
		{"expired token", query(token(t, now.Add(-time.Minute)), ""), "failure", "token expired"},
		{"no token", "room=x", "failure", "token required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, body := boshAuthenticate(testContext(t), t, srv, tokenDomain, tc.query)
			if got != tc.want || !strings.Contains(body, tc.text) {
				t.Errorf("SASL answer <%s> in %s; want <%s> with %q", got, body, tc.want, tc.text)
			}
		})
	}
}

// TestTokenResume checks previd: a resumption after a drop authenticates
// with a fresh token, and only with previd on the URL does the new anonymous
// login get the old username, so that <resume/> finds the session.
func TestTokenResume(t *testing.T) {
	servertest.EachWith(t, servertest.ProsodyModules, testTokenResume)
}

func testTokenResume(t *testing.T, srv *servertest.Server) {
	ctx := testContext(t)
	c := dialWS(ctx, t, srv, query(token(t, time.Now().Add(time.Hour)), ""))
	if fe := c.authenticate(tokenDomain); fe != nil {
		t.Fatal(fe)
	}
	full := c.bind(tokenDomain)
	c.send(`<enable xmlns='urn:xmpp:sm:3' resume='true'/>`)
	previd := c.expect("enabled").attr("id")
	if previd == "" {
		t.Fatal("no resumption id in <enabled/>")
	}
	if n, err := srv.KillSessions(ctx, full, ""); err != nil || n != 1 {
		t.Fatalf("drop %s: %d, %v", full, n, err)
	}
	waitHibernating(ctx, t, srv, full)

	// Without previd the login is a stranger: the session is not found.
	c2 := dialWS(ctx, t, srv, query(token(t, time.Now().Add(time.Hour)), ""))
	if fe := c2.authenticate(tokenDomain); fe != nil {
		t.Fatal(fe)
	}
	c2.open(tokenDomain)
	c2.send(`<resume xmlns='urn:xmpp:sm:3' h='0' previd='` + previd + `'/>`)
	if e := c2.expect("resumed", "failed"); e.XMLName.Local != "failed" {
		t.Fatalf("resume without previd on the URL: %s, want <failed/>", e.raw)
	}

	// With a fresh token and previd it resumes the same full JID.
	c3 := dialWS(ctx, t, srv, query(token(t, time.Now().Add(2*time.Hour)), previd))
	if fe := c3.authenticate(tokenDomain); fe != nil {
		t.Fatal(fe)
	}
	c3.open(tokenDomain)
	c3.send(`<resume xmlns='urn:xmpp:sm:3' h='0' previd='` + previd + `'/>`)
	if e := c3.expect("resumed", "failed"); e.XMLName.Local != "resumed" {
		t.Fatalf("resume with previd: %s, want <resumed/>", e.raw)
	}
	j, _ := jid.Parse(full)
	infos, err := srv.SessionDetails(ctx, j.Bare().String())
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].JID != full || infos[0].Hibernating {
		t.Errorf("sessions after resume: %+v, want %s live", infos, full)
	}
}

// waitHibernating polls the server until the session of full hibernates.
func waitHibernating(ctx context.Context, t *testing.T, srv *servertest.Server, full string) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		infos, err := srv.SessionDetails(ctx, full)
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) == 1 && infos[0].Hibernating {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("session %s never hibernated: %+v", full, infos)
		case <-tick.C:
		}
	}
}

// TestTokenConnection drives the module with the library's own client: the
// token travels as ?token= with SASL ANONYMOUS.
func TestTokenConnection(t *testing.T) {
	servertest.EachWith(t, servertest.ProsodyModules, testTokenConnection)
}

func testTokenConnection(t *testing.T, srv *servertest.Server) {
	cases := []struct {
		name    string
		exp     time.Duration
		expired bool
	}{
		{"valid token", time.Hour, false},
		{"expired token", -time.Minute, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			u, err := auth.AddToken(srv.WebSocketURL(true), auth.NewSecret(token(t, time.Now().Add(tc.exp))), "")
			if err != nil {
				t.Fatal(err)
			}
			conn := xmppconn.New(xmppconn.Config{
				URL:        u,
				Domain:     tokenDomain,
				HTTPClient: srv.HTTPClient(),
				Reconnect:  xmppconn.ReconnectConfig{Disabled: true},
			})
			err = conn.Connect(ctx)
			if !tc.expired {
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				if d := conn.JID().Domainpart(); d != tokenDomain {
					t.Errorf("JID %v, want one on %s", conn.JID(), tokenDomain)
				}
				if err := conn.Disconnect(ctx); err != nil {
					t.Error(err)
				}
				return
			}
			var fe *auth.FailureError
			if !errors.As(err, &fe) || !auth.TokenExpiredFailure(fe) {
				t.Fatalf("Connect = %v; want a SASL failure meaning the token expired", err)
			}
			if strings.Contains(err.Error(), u[strings.Index(u, "token=")+6:]) {
				t.Error("the error shows the token")
			}
		})
	}
}
