package servertest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
	"mellium.im/sasl"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/ping"
	"mellium.im/xmpp/stream"

	"github.com/xmppconn/xmppconn/internal/servertest"
)

func TestMain(m *testing.M) {
	servertest.Main(m, func(servertest.Kind) *servertest.Options {
		return &servertest.Options{ResumeTimeout: 5, Log: os.Stderr}
	})
}

// testContext bounds one test's calls to the server.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// client is a raw mellium session over the plain c2s port, read by a
// goroutine whose result arrives on done.
type client struct {
	session *xmpp.Session
	done    chan error // Serve's result, once
}

// dial logs in over c2s TCP (the harness offers no TLS there, so the
// connection is declared secure to let mellium use SASL) and starts reading.
func dial(ctx context.Context, t *testing.T, srv *servertest.Server, origin jid.JID, password string, mech sasl.Mechanism) (*client, error) {
	t.Helper()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", srv.C2SAddr())
	if err != nil {
		return nil, err
	}
	features := []xmpp.StreamFeature{xmpp.SASL("", password, mech), xmpp.BindResource()}
	session, err := xmpp.NewSession(ctx, origin.Domain(), origin, conn, xmpp.Secure,
		xmpp.NewNegotiator(func(*xmpp.Session, *xmpp.StreamConfig) xmpp.StreamConfig {
			return xmpp.StreamConfig{Features: features}
		}))
	if err != nil {
		conn.Close()
		return nil, err
	}
	c := &client{session: session, done: make(chan error, 1)}
	go func() { c.done <- session.Serve(nil) }()
	t.Cleanup(func() {
		session.Close()
		conn.Close()
		<-c.done
	})
	// One round trip, so that the reading goroutine owns the stream before
	// the test makes the server send anything unasked.
	if err := ping.Send(ctx, session, origin.Domain()); err != nil {
		return nil, fmt.Errorf("ping after login: %w", err)
	}
	return c, nil
}

// ended waits for the client's stream to end and returns why.
func (c *client) ended(ctx context.Context, t *testing.T) error {
	t.Helper()
	select {
	case err := <-c.done:
		c.done <- err // for the cleanup
		return err
	case <-ctx.Done():
		t.Fatal("the server did not end the stream")
		return nil
	}
}

func TestLoginWithPassword(t *testing.T) {
	servertest.Each(t, func(t *testing.T, srv *servertest.Server) {
		ctx := testContext(t)
		if err := srv.AddUser(ctx, "alice", "correct horse"); err != nil {
			t.Fatal(err)
		}
		alice := jid.MustParse("alice@localhost")
		for _, tc := range []struct {
			name     string
			mech     sasl.Mechanism
			password string
			wantErr  bool
		}{
			{"PLAIN", sasl.Plain, "correct horse", false},
			{"SCRAM-SHA-1", sasl.ScramSha1, "correct horse", false},
			{"SCRAM-SHA-256", sasl.ScramSha256, "correct horse", false},
			{"wrong password", sasl.ScramSha256, "battery staple", true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c, err := dial(ctx, t, srv, alice, tc.password, tc.mech)
				if tc.wantErr {
					if err == nil {
						t.Fatal("login with a wrong password succeeded")
					}
					return
				}
				if err != nil {
					t.Fatalf("login: %v", err)
				}
				bound := c.session.LocalAddr()
				if !bound.Bare().Equal(alice) || bound.Resourcepart() == "" {
					t.Fatalf("bound JID = %s, want alice@localhost/RESOURCE", bound)
				}
				jids, err := srv.Sessions(ctx, "alice@localhost")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]string{bound.String()}, jids); diff != "" {
					t.Errorf("Sessions (-want +got):\n%s", diff)
				}
				c.session.Close()
				c.ended(ctx, t)
			})
		}
	})
}

func TestAddUserUpdatesPassword(t *testing.T) {
	servertest.Each(t, func(t *testing.T, srv *servertest.Server) {
		ctx := testContext(t)
		for _, pw := range []string{"first", "second"} {
			if err := srv.AddUser(ctx, "bob", pw); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := dial(ctx, t, srv, jid.MustParse("bob@localhost"), "second", sasl.Plain); err != nil {
			t.Fatalf("login with the updated password: %v", err)
		}
		if err := srv.AddUser(ctx, "", "x"); err == nil {
			t.Error("AddUser with an empty name succeeded")
		}
		err := srv.AddUser(ctx, "bad@name", "do-not-echo")
		if err == nil || strings.Contains(err.Error(), "do-not-echo") {
			t.Errorf("AddUser(bad@name) = %v; want an error without the password", err)
		}
	})
}

func TestAnonymousLogin(t *testing.T) {
	servertest.Each(t, func(t *testing.T, srv *servertest.Server) {
		ctx := testContext(t)
		c, err := dial(ctx, t, srv, jid.MustParse(srv.AnonDomain), "", sasl.Anonymous)
		if err != nil {
			t.Fatalf("anonymous login: %v", err)
		}
		bound := c.session.LocalAddr()
		if bound.Domainpart() != srv.AnonDomain || bound.Localpart() == "" {
			t.Fatalf("bound JID = %s, want RANDOM@%s/RESOURCE", bound, srv.AnonDomain)
		}
		jids, err := srv.Sessions(ctx, srv.AnonDomain)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{bound.String()}, jids); diff != "" {
			t.Errorf("Sessions of the domain (-want +got):\n%s", diff)
		}
	})
}

func TestKillSessions(t *testing.T) {
	servertest.Each(t, func(t *testing.T, srv *servertest.Server) {
		ctx := testContext(t)
		if err := srv.AddUser(ctx, "carol", "pw"); err != nil {
			t.Fatal(err)
		}
		carol := jid.MustParse("carol@localhost")
		for _, tc := range []struct {
			name      string
			target    func(full jid.JID) string
			condition string
		}{
			{"system-shutdown to the full JID", jid.JID.String, "system-shutdown"},
			{"conflict to the bare JID", func(full jid.JID) string { return full.Bare().String() }, "conflict"},
			{"policy-violation to the domain", func(full jid.JID) string { return full.Domain().String() }, "policy-violation"},
			{"drop without a stream error", jid.JID.String, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c, err := dial(ctx, t, srv, carol, "pw", sasl.Plain)
				if err != nil {
					t.Fatal(err)
				}
				n, err := srv.KillSessions(ctx, tc.target(c.session.LocalAddr()), tc.condition)
				if err != nil || n != 1 {
					t.Fatalf("KillSessions = %d, %v; want 1, nil", n, err)
				}
				err = c.ended(ctx, t)
				var se stream.Error
				switch {
				case tc.condition == "" && errors.As(err, &se):
					t.Errorf("stream ended with stream error %q, want a dropped connection", se.Err)
				case tc.condition != "" && !errors.As(err, &se):
					t.Errorf("stream ended with %v, want stream error %q", err, tc.condition)
				case tc.condition != "" && se.Err != tc.condition:
					t.Errorf("stream error = %q, want %q", se.Err, tc.condition)
				}
				// KillSessions returns once the sessions are gone.
				assertNoSessions(ctx, t, srv, carol.String())
			})
		}

		t.Run("no session", func(t *testing.T) {
			n, err := srv.KillSessions(ctx, "nobody@localhost", "conflict")
			if err != nil || n != 0 {
				t.Errorf("KillSessions = %d, %v; want 0, nil", n, err)
			}
		})
		t.Run("invalid condition", func(t *testing.T) {
			if _, err := srv.KillSessions(ctx, "carol@localhost", "<bad/>"); err == nil {
				t.Error("KillSessions with an invalid condition succeeded")
			}
		})
		t.Run("invalid JID", func(t *testing.T) {
			if _, err := srv.KillSessions(ctx, "a@b@c", "conflict"); err == nil {
				t.Error("KillSessions with an invalid JID succeeded")
			}
		})
	})
}

func TestEndpointsAnswer(t *testing.T) {
	servertest.Each(t, func(t *testing.T, srv *servertest.Server) {
		ctx := testContext(t)
		for _, secure := range []bool{false, true} {
			name := map[bool]string{false: "plain", true: "tls"}[secure]
			t.Run("BOSH "+name, func(t *testing.T) {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.BOSHURL(secure), nil)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := srv.HTTPClient().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				// Both servers answer a GET with a page that names BOSH.
				if resp.StatusCode != http.StatusOK || !strings.Contains(strings.ToLower(string(body)), "bosh") {
					t.Errorf("GET %s = %d %q, want 200 and the server's BOSH page", srv.BOSHURL(secure), resp.StatusCode, body)
				}
			})
			t.Run("WebSocket "+name, func(t *testing.T) {
				conn, _, err := websocket.Dial(ctx, srv.WebSocketURL(secure), &websocket.DialOptions{
					HTTPClient:   srv.HTTPClient(),
					Subprotocols: []string{"xmpp"},
				})
				if err != nil {
					t.Fatal(err)
				}
				defer conn.CloseNow()
				if conn.Subprotocol() != "xmpp" {
					t.Fatalf("subprotocol = %q, want xmpp", conn.Subprotocol())
				}
				open := `<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="localhost" version="1.0"/>`
				if err := conn.Write(ctx, websocket.MessageText, []byte(open)); err != nil {
					t.Fatal(err)
				}
				_, msg, err := conn.Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(string(msg), "<open") {
					t.Errorf("first message = %q, want <open/>", msg)
				}
				conn.Close(websocket.StatusNormalClosure, "")
			})
		}
	})
}

func TestTLSVerification(t *testing.T) {
	servertest.Each(t, func(t *testing.T, srv *servertest.Server) {
		ctx := testContext(t)
		// Without the generated CA, the HTTPS endpoint must not verify.
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.BOSHURL(true), nil)
		if err != nil {
			t.Fatal(err)
		}
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		if resp, err := (&http.Client{Transport: tr}).Do(req); err == nil {
			resp.Body.Close()
			t.Fatal("HTTPS verified without the test CA")
		}
		if srv.TLSConfig().InsecureSkipVerify {
			t.Error("TLSConfig turns verification off")
		}
	})
}

func TestServerVersion(t *testing.T) {
	want := map[servertest.Kind]string{
		servertest.Prosody12: "0.12.3",
		servertest.Prosody13: "13.0.1",
		servertest.Ejabberd:  "23.01",
	}
	servertest.Each(t, func(t *testing.T, srv *servertest.Server) {
		if srv.Version != want[srv.Kind] {
			t.Errorf("%s runs version %q, want %q", srv.Kind, srv.Version, want[srv.Kind])
		}
	})
}

// TestRestart runs last: every session is gone after it.
func TestRestart(t *testing.T) {
	servertest.Each(t, func(t *testing.T, srv *servertest.Server) {
		ctx := testContext(t)
		if err := srv.AddUser(ctx, "dave", "pw"); err != nil {
			t.Fatal(err)
		}
		dave := jid.MustParse("dave@localhost")
		c, err := dial(ctx, t, srv, dave, "pw", sasl.Plain)
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		var se stream.Error
		if err := c.ended(ctx, t); !errors.As(err, &se) || se.Err != "system-shutdown" {
			t.Errorf("stream ended with %v, want system-shutdown", err)
		}
		// The account survives; the old session does not.
		c2, err := dial(ctx, t, srv, dave, "pw", sasl.Plain)
		if err != nil {
			t.Fatalf("login after restart: %v", err)
		}
		jids, err := srv.Sessions(ctx, dave.String())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{c2.session.LocalAddr().String()}, jids); diff != "" {
			t.Errorf("Sessions after restart (-want +got):\n%s", diff)
		}
	})
}
