package sasl2test_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"regexp"
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

// fastConfig returns the Config of a login of user over ep with the token
// store, the stream header naming the account, and debug logs kept.
func fastConfig(t *testing.T, s *servertest.Server, ep endpoint, user, pass string, store auth.FASTStore) (xmppconn.Config, *tap, *xmpptest.Buffer) {
	cfg, tp := configFrom(t, s, ep.url(s), user+"@"+s.Domain)
	cfg.Credentials = auth.Credentials{Username: user, Password: auth.NewSecret(pass)}
	cfg.SASL2.FAST.Store = store
	logs := &xmpptest.Buffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return cfg, tp, logs
}

var mechanismAttr = regexp.MustCompile(`<authenticate xmlns='urn:xmpp:sasl:2' mechanism='([^']+)'`)

// mechanisms returns the SASL2 mechanisms stream i authenticated with.
func (tp *tap) mechanisms(i int) []string {
	var out []string
	for _, m := range mechanismAttr.FindAllStringSubmatch(tp.wire(i), -1) {
		out = append(out, m[1])
	}
	return out
}

// fastMech is the HT mechanism the client chooses on ep: over wss, the
// channel binding Prosody 13 advertises (tls-exporter on TLS 1.3). A BOSH
// session spans HTTP requests on several TLS connections: Prosody binds no
// channel there and advertises none.
func fastMech(ep endpoint) string {
	if ep.name == "wss" {
		return auth.MechHTExporter
	}
	return auth.MechHTNone
}

// connectOnce connects c and disconnects it, failing the test on error.
func connectOnce(t *testing.T, c *xmppconn.Connection) {
	t.Helper()
	if err := c.Connect(connectCtx(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if err := c.Disconnect(context.Background()); err != nil {
		t.Errorf("Disconnect: %v", err)
	}
}

// tokenOf returns the secret of the token the store holds for account, and
// gives it back.
func tokenOf(t *testing.T, store auth.FASTStore, account string) auth.FASTToken {
	t.Helper()
	tok, ok, err := store.Take(account)
	if err != nil || !ok {
		t.Fatalf("no token in the store for %s: %v", account, err)
	}
	if err := store.Release(account, tok.UserAgent); err != nil {
		t.Fatal(err)
	}
	return tok
}

// noSecret fails the test if the logs, the events or an error show secret.
func noSecret(t *testing.T, secret string, logs *xmpptest.Buffer, rec *recorder, errs ...error) {
	t.Helper()
	if secret == "" {
		return
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("the logs show the token")
	}
	if strings.Contains(fmt.Sprintf("%+v %#v", rec.all(), rec.all()), secret) {
		t.Errorf("the events show the token")
	}
	for _, err := range errs {
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("an error shows the token: %v", err)
		}
	}
}

// TestFAST: on a server with XEP-0484, a login with the password asks for
// a token; the next Connection with the same store logs in with it (an HT
// mechanism, no SCRAM: one <authenticate/>, no <response/>), binds and
// enables stream management in the same exchange; the same Connection
// does so again after its session is lost, resuming it inline. On the
// other servers nothing changes: the password every time, no token asked
// for. The token never shows in the logs or the events.
func TestFAST(t *testing.T) { servertest.Each(t, testFAST) }

func testFAST(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	account := user + "@" + s.Domain
	for _, ep := range endpoints {
		t.Run(ep.name, func(t *testing.T) {
			noLeaks(t)
			store := auth.NewMemoryFASTStore()

			cfg, tp, logs := fastConfig(t, s, ep, user, pass, store)
			c := xmppconn.New(cfg)
			rec := record(c)
			connectOnce(t, c)
			if !s.Has(servertest.SASL2) {
				// ejabberd 23.01: RFC 6120 SASL, where FAST has no place.
				checkRFC6120(t, tp, 0, "SCRAM-SHA-")
				if _, ok, _ := store.Take(account); ok {
					t.Error("a token from a server without FAST")
				}
				return
			}
			checkSASL2(t, tp, 0, "SCRAM-SHA-", true)
			w := tp.wire(0)
			if got := strings.Contains(w, "<request-token xmlns='urn:xmpp:fast:0' mechanism='"+fastMech(ep)+"'/>"); got != s.Has(servertest.FAST) {
				t.Errorf("token requested %t, want %t:\n%s", got, s.Has(servertest.FAST), w)
			}
			if !s.Has(servertest.FAST) {
				if _, ok, _ := store.Take(account); ok {
					t.Error("a token from a server without FAST")
				}
				return
			}
			tok := tokenOf(t, store, account)
			if tok.Mechanism != fastMech(ep) || tok.Expiry.Before(time.Now().Add(24*time.Hour)) {
				t.Errorf("token for %s expiring %v, want %s and days ahead", tok.Mechanism, tok.Expiry, fastMech(ep))
			}

			// Another Connection: FAST, one exchange.
			cfg2, tp2, logs2 := fastConfig(t, s, ep, user, pass, store)
			c2 := xmppconn.New(cfg2)
			rec2 := record(c2)
			if err := c2.Connect(connectCtx(t)); err != nil {
				t.Fatalf("Connect with the token: %v", err)
			}
			if diff := cmp.Diff([]string{fastMech(ep)}, tp2.mechanisms(0)); diff != "" {
				t.Errorf("mechanisms (-want +got):\n%s", diff)
			}
			checkSASL2(t, tp2, 0, "HT-SHA-256-", true)
			if w := tp2.wire(0); strings.Contains(w, "<response") || strings.Contains(w, "SCRAM") {
				t.Errorf("password-based SASL on a FAST login:\n%s", w)
			}
			if got := c2.JID().Bare().String(); got != account {
				t.Errorf("JID %s, want %s/…", c2.JID(), account)
			}

			// Its session lost, the Connection comes back with the token,
			// resuming inline in the same exchange. WebSocket only: Prosody
			// 13 cannot resume a BOSH session (see comebackOf).
			if ep.bosh {
				if err := c2.Disconnect(context.Background()); err != nil {
					t.Errorf("Disconnect: %v", err)
				}
				noSecret(t, tok.Secret.Reveal(), logs2, rec2)
				return
			}
			first := c2.JID()
			waitSM(t, s, first.String())
			if n, err := s.KillSessions(connectCtx(t), first.String(), ""); err != nil || n != 1 {
				t.Fatalf("KillSessions = %d, %v", n, err)
			}
			rec2.waitForNth(t, 30*time.Second, "second ConnectionEstablished", 2, func(e events.Event) bool {
				return e.Type() == events.ConnectionEstablished
			})
			if got := tp2.mechanisms(1); len(got) == 0 || got[0] != fastMech(ep) {
				t.Errorf("the reconnection authenticated with %v, want %s first", got, fastMech(ep))
			}
			if !strings.Contains(tp2.wire(1), "<resume xmlns='urn:xmpp:sm:3'") {
				t.Errorf("no inline resumption with the token:\n%s", tp2.wire(1))
			}
			if err := c2.Disconnect(context.Background()); err != nil {
				t.Errorf("Disconnect: %v", err)
			}
			final := tokenOf(t, store, account)
			for _, secret := range []string{tok.Secret.Reveal(), final.Secret.Reveal()} {
				noSecret(t, secret, logs, rec)
				noSecret(t, secret, logs2, rec2)
			}
		})
	}
}

// TestFASTRefused: a token the server refuses — unknown to it, or expired
// there (issued before the password changed: Prosody says
// credentials-expired) — is dropped, and the same attempt logs in with the
// password on the same stream and gets a new token, with no event but
// CONNECTING and CONNECTED. A token expired by its own expiry is not even
// presented.
func TestFASTRefused(t *testing.T) { servertest.EachWith(t, servertest.FAST, testFASTRefused) }

func testFASTRefused(t *testing.T, s *servertest.Server) {
	ep := endpoints[0] // ws, the stream header naming the account
	cases := []struct {
		name    string
		prepare func(t *testing.T, user, pass string, store auth.FASTStore)
		want    []string // the mechanisms of the attempt
	}{
		{"unknown to the server", func(t *testing.T, user, pass string, store auth.FASTStore) {
			account := user + "@" + s.Domain
			tok := login(t, s, ep, user, pass, store)
			tok.Secret = auth.NewSecret("secret-token:fast-not-issued-" + user)
			if err := store.Save(account, tok); err != nil {
				t.Fatal(err)
			}
			_ = store.Release(account, tok.UserAgent)
		}, []string{auth.MechHTNone, "SCRAM-SHA-256"}},
		{"expired at the server", func(t *testing.T, user, pass string, store auth.FASTStore) {
			login(t, s, ep, user, pass, store)
			// Prosody refuses a token issued before the last password
			// change, which it stamps in whole seconds: change it (to the
			// same password) in the next second.
			next := time.Now().Truncate(time.Second).Add(time.Second + 10*time.Millisecond)
			time.Sleep(time.Until(next))
			if err := s.AddUser(connectCtx(t), user, pass); err != nil {
				t.Fatal(err)
			}
		}, []string{auth.MechHTNone, "SCRAM-SHA-256"}},
		{"expired here", func(t *testing.T, user, pass string, store auth.FASTStore) {
			account := user + "@" + s.Domain
			tok := login(t, s, ep, user, pass, store)
			tok.Expiry = time.Now().Add(-time.Minute)
			if err := store.Save(account, tok); err != nil {
				t.Fatal(err)
			}
			_ = store.Release(account, tok.UserAgent)
		}, []string{"SCRAM-SHA-256"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			user, pass := s.NewUser(t)
			account := user + "@" + s.Domain
			store := auth.NewMemoryFASTStore()
			tc.prepare(t, user, pass, store)
			old := tokenOf(t, store, account)

			cfg, tp, logs := fastConfig(t, s, ep, user, pass, store)
			c := xmppconn.New(cfg)
			rec := record(c)
			err := c.Connect(connectCtx(t))
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if diff := cmp.Diff(tc.want, tp.mechanisms(0)); diff != "" {
				t.Errorf("mechanisms (-want +got):\n%s", diff)
			}
			if streams, _ := tp.count(); streams != 1 {
				t.Errorf("%d streams, want 1", streams)
			}
			if !strings.Contains(tp.wire(0), "<request-token xmlns='urn:xmpp:fast:0'") {
				t.Errorf("the password login asked for no new token:\n%s", tp.wire(0))
			}
			if err := c.Disconnect(context.Background()); err != nil {
				t.Errorf("Disconnect: %v", err)
			}
			flush(t, c)
			want := []string{"state:CONNECTING", "state:CONNECTED", "established", "state:CLOSING", "state:CLOSED", "connection.connectionDisconnected"}
			if diff := cmp.Diff(want, rec.names()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			fresh := tokenOf(t, store, account)
			if fresh.Secret.Equal(old.Secret) {
				t.Error("the refused token is still in the store")
			}
			noSecret(t, old.Secret.Reveal(), logs, rec, err)
			noSecret(t, fresh.Secret.Reveal(), logs, rec, err)
		})
	}
}

// login logs user in with the password over ep and returns the token it
// got (back in the store, free).
func login(t *testing.T, s *servertest.Server, ep endpoint, user, pass string, store auth.FASTStore) auth.FASTToken {
	t.Helper()
	cfg, _, _ := fastConfig(t, s, ep, user, pass, store)
	connectOnce(t, xmppconn.New(cfg))
	return tokenOf(t, store, user+"@"+s.Domain)
}

// TestFASTRoundTrips counts the round trips of a FAST login (a new
// Connection with a stored token, nothing to resume) through the delaying
// proxy: the protocol minimum, WebSocket 3 after TCP (upgrade, open,
// authenticate), BOSH 2 (session request, authenticate).
func TestFASTRoundTrips(t *testing.T) { servertest.EachWith(t, servertest.FAST, testFASTRoundTrips) }

func testFASTRoundTrips(t *testing.T, s *servertest.Server) {
	for _, tc := range []struct {
		ep   endpoint
		want int
	}{{endpoints[0], 3}, {endpoints[2], 2}} {
		t.Run(tc.ep.name, func(t *testing.T) {
			t.Parallel() // leaks are checked once for the package (servertest.Main)
			user, pass := s.NewUser(t)
			p, pu := proxied(t, s, tc.ep.url(s), 0)
			ep := endpoint{name: tc.ep.name, url: func(*servertest.Server) string { return pu }, bosh: tc.ep.bosh}
			store := auth.NewMemoryFASTStore()
			login(t, s, ep, user, pass, store)

			p.Delay(rtDelay)
			cfg, tp, _ := fastConfig(t, s, ep, user, pass, store)
			d := timeConnect(t, cfg)
			got := int(d / (2 * rtDelay))
			t.Logf("FAST login: %v to CONNECTED = %d round trips of %v", d.Round(time.Millisecond), got, 2*rtDelay)
			if m := tp.mechanisms(0); len(m) != 1 || !strings.HasPrefix(m[0], "HT-") {
				t.Fatalf("not a FAST login: %v", m)
			}
			if got != tc.want {
				t.Errorf("%d round trips to CONNECTED (%v), want %d", got, d, tc.want)
			}
		})
	}
}

// TestFASTStreamFrom: the Connection's own transports name the account in
// the stream header over wss:// and https:// only, so that FAST is offered
// there and not over ws:// or http://.
func TestFASTStreamFrom(t *testing.T) { servertest.EachWith(t, servertest.FAST, testFASTStreamFrom) }

func testFASTStreamFrom(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	for _, ep := range endpoints {
		t.Run(ep.name, func(t *testing.T) {
			noLeaks(t)
			hc := s.HTTPClient()
			t.Cleanup(hc.CloseIdleConnections)
			store := auth.NewMemoryFASTStore()
			cfg := xmppconn.Config{
				URL:         ep.url(s),
				Domain:      s.Domain,
				HTTPClient:  hc,
				Credentials: auth.Credentials{Username: user, Password: auth.NewSecret(pass)},
			}
			cfg.SASL2.FAST.Store = store
			connectOnce(t, xmppconn.New(cfg))
			_, got, _ := store.Take(user + "@" + s.Domain)
			if want := ep.name == "wss" || ep.name == "bosh-https"; got != want {
				t.Errorf("token obtained %t, want %t (FAST offered only when the header names the account)", got, want)
			}
		})
	}
}

// hashedOptions configure a server of kind k that stores SCRAM keys, not
// the password: its salt stays the same from one login to the next, as on
// production servers (Prosody's default internal_hashed; ejabberd's scram
// format, SCRAM-SHA-1 only).
func hashedOptions(k servertest.Kind) *servertest.Options {
	if k == servertest.Ejabberd {
		return &servertest.Options{Ejabberd: servertest.EjabberdOptions{
			PasswordFormat: "scram",
		}}
	}
	o := options(k)
	o.Prosody.ExtraHost = "\tauthentication = \"internal_hashed\"\n"
	return o
}

// TestSCRAMKeyCache: on a server that keeps its SCRAM salt, the second
// login of an account skips PBKDF2 (a hit in the cache shared by the two
// Connections), over SASL2 and RFC 6120 SASL alike; Disconnect of the last
// Connection holding the cache zeroes it. On the package's servers, which
// store plain passwords and draw a new salt at every login, every login
// misses.
func TestSCRAMKeyCache(t *testing.T) {
	servertest.EachKind(t, "", func(t *testing.T, k servertest.Kind) {
		s := servertest.StartTest(t, k, hashedOptions(k))
		user, pass := s.NewUser(t)
		for _, sasl2 := range []bool{true, false} {
			t.Run(fmt.Sprintf("sasl2=%t", sasl2), func(t *testing.T) {
				noLeaks(t)
				cache := auth.NewSCRAMKeyCache()
				steps := []struct {
					hold         bool // the test holds the cache from this login on
					hits, misses int
					entries      int // after Disconnect
				}{
					{misses: 1},                         // zeroed at Disconnect: nobody else holds it
					{hold: true, misses: 2, entries: 1}, // derived again, kept
					{hits: 1, misses: 2, entries: 1},    // found
				}
				for i, step := range steps {
					if step.hold {
						cache.Hold()
					}
					cfg, tp := loginConfig(t, s, s.WebSocketURL(false), user, pass, "SCRAM-SHA-1", sasl2)
					cfg.SCRAMKeys.Cache = cache
					connectOnce(t, xmppconn.New(cfg))
					if !strings.Contains(tp.wire(0), "SCRAM-SHA-1") {
						t.Fatalf("not a SCRAM login:\n%s", tp.wire(0))
					}
					if st := cache.Stats(); st.Hits != step.hits || st.Misses != step.misses || st.Entries != step.entries {
						t.Errorf("after login %d: %+v, want %+v", i+1, st, step)
					}
				}
				cache.Release()
				if st := cache.Stats(); st.Entries != 0 {
					t.Errorf("after the last Release: %d entries", st.Entries)
				}
			})
		}
		t.Run("plain storage", func(t *testing.T) {
			shared := servertest.Require(t, k)
			user, pass := shared.NewUser(t)
			cache := auth.NewSCRAMKeyCache()
			cache.Hold()
			for range 2 {
				cfg, _ := loginConfig(t, shared, shared.WebSocketURL(false), user, pass, "SCRAM-SHA-1", true)
				cfg.SCRAMKeys.Cache = cache
				connectOnce(t, xmppconn.New(cfg))
			}
			t.Logf("%s with plain passwords: %+v", k, cache.Stats())
		})
	})
}

// TestFASTRotation: a server that rotates the token at every use (Prosody
// with sasl2_fast_token_min_ttl = 0) sends a new one in each FAST
// <success/>; the client keeps it, and the next login presents it (the
// server would still take the one before, so the test checks the initial
// response on the wire).
func TestFASTRotation(t *testing.T) {
	servertest.EachKind(t, servertest.FAST, func(t *testing.T, k servertest.Kind) {
		o := options(k)
		o.Prosody.ExtraHost = "\tsasl2_fast_token_min_ttl = 0\n"
		s := servertest.StartTest(t, k, o)
		user, pass := s.NewUser(t)
		account := user + "@" + s.Domain
		ep := endpoints[0]
		store := auth.NewMemoryFASTStore()
		prev := login(t, s, ep, user, pass, store)
		for i := range 3 {
			cfg, tp, logs := fastConfig(t, s, ep, user, pass, store)
			c := xmppconn.New(cfg)
			rec := record(c)
			connectOnce(t, c)
			if m := tp.mechanisms(0); len(m) != 1 || m[0] != auth.MechHTNone {
				t.Fatalf("login %d: mechanisms %v, want one FAST login", i, m)
			}
			if want := htInitial(user, prev.Secret.Reveal()); !strings.Contains(tp.wire(0), want) {
				t.Errorf("login %d did not present the last token", i)
			}
			next := tokenOf(t, store, account)
			if next.Secret.Equal(prev.Secret) || next.UserAgent != prev.UserAgent {
				t.Errorf("login %d: token not rotated (same secret %t, user agent %s then %s)", i, next.Secret.Equal(prev.Secret), prev.UserAgent, next.UserAgent)
			}
			noSecret(t, prev.Secret.Reveal(), logs, rec)
			noSecret(t, next.Secret.Reveal(), logs, rec)
			prev = next
		}
	})
}

// htInitial is the <initial-response/> of an HT-SHA-256-NONE login of user
// with token: base64(user NUL HMAC-SHA-256(token, "Initiator")).
func htInitial(user, token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("Initiator"))
	return "<initial-response>" + base64.StdEncoding.EncodeToString(append([]byte(user+"\x00"), m.Sum(nil)...)) + "</initial-response>"
}
