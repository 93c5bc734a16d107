package xmppconn_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// featuresFAST offers SASL2 with PLAIN, Bind 2, stream management and FAST
// (HT-SHA-256-NONE and -EXPR), as Prosody 13 with mod_sasl2_fast does.
const featuresFAST = `<stream:features xmlns:stream='http://etherx.jabber.org/streams'>` +
	`<authentication xmlns='urn:xmpp:sasl:2'><mechanism>PLAIN</mechanism><inline>` +
	`<bind xmlns='urn:xmpp:bind:0'><inline><feature var='urn:xmpp:sm:3'/></inline></bind>` +
	`<sm xmlns='urn:xmpp:sm:3'/>` +
	`<fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-EXPR</mechanism><mechanism>HT-SHA-256-NONE</mechanism></fast>` +
	`</inline></authentication></stream:features>`

const (
	fastToken1 = "secret-token:fast-first-AAAA"
	fastToken2 = "secret-token:fast-second-BBBB"
	fastPass   = "pass-word-1234"
)

// fastSuccess is a bound <success/>, with the HT proof of token (if any)
// and a new token (if any).
func fastSuccess(proofToken, newToken string) string {
	var b strings.Builder
	b.WriteString("<success xmlns='urn:xmpp:sasl:2'>")
	if proofToken != "" {
		b.WriteString("<additional-data>" + base64.StdEncoding.EncodeToString(htMAC(proofToken, "Responder")) + "</additional-data>")
	}
	if newToken != "" {
		b.WriteString("<token xmlns='urn:xmpp:fast:0' expiry='2040-01-01T00:00:00Z' token='" + newToken + "'/>")
	}
	b.WriteString("<authorization-identifier>alice@example.net/xmppconn~abc</authorization-identifier>" +
		"<bound xmlns='urn:xmpp:bind:0'><enabled xmlns='urn:xmpp:sm:3' id='sm-1' resume='1'/></bound></success>")
	return b.String()
}

func htMAC(token, label string) []byte {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte(label))
	return m.Sum(nil)
}

var userAgentID = regexp.MustCompile(`<user-agent id='([^']+)'>`)

// fastRig is a Connection config for alice@example.net over fake
// transports, sharing store, with debug logs kept.
type fastRig struct {
	t     *testing.T
	store auth.FASTStore
	fakes chan *xmpptest.FakeConn
	mu    sync.Mutex
	logs  bytes.Buffer
	last  *xmpptest.FakeConn // the stream served last
}

func newFASTRig(t *testing.T, store auth.FASTStore) *fastRig {
	return &fastRig{t: t, store: store, fakes: make(chan *xmpptest.FakeConn, 4)}
}

func (r *fastRig) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logs.Write(p)
}

func (r *fastRig) config() xmppconn.Config {
	cfg := xmppconn.Config{
		URL:         "wss://example.net/xmpp-websocket",
		Credentials: auth.Credentials{Username: "alice@example.net", Password: auth.NewSecret(fastPass)},
		AllowPlain:  true, // the fake transport has no TLS
		Logger:      slog.New(slog.NewTextHandler(r, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Dial: func(context.Context, string, string) (transport.Conn, error) {
			return <-r.fakes, nil
		},
	}
	cfg.SASL2.FAST.Store = r.store
	return cfg
}

// serve plays one stream: the features, then for each answer the next
// <authenticate/> the client sends (returned) and the answer.
func (r *fastRig) serve(answers ...string) <-chan []string {
	f := xmpptest.NewFakeConn()
	r.mu.Lock()
	prev := r.last
	r.last = f
	r.mu.Unlock()
	r.fakes <- f
	out := make(chan []string, 1)
	go func() {
		if prev != nil {
			close(prev.ToClient) // lost without a stream error
		}
		<-f.Opens
		f.Send(featuresFAST)
		var got []string
		for _, a := range answers {
			got = append(got, f.Expect(r.t, "<authenticate xmlns='urn:xmpp:sasl:2'"))
			f.Send(a)
		}
		out <- got
	}()
	return out
}

// noSecrets fails the test when the logs or the events show a token or the
// password.
func (r *fastRig) noSecrets(rec *xmpptest.Recorder, secrets ...string) {
	r.t.Helper()
	r.mu.Lock()
	logs := r.logs.String()
	r.mu.Unlock()
	evs := fmt.Sprintf("%+v", rec.All())
	for _, s := range append(secrets, fastPass) {
		if strings.Contains(logs, s) {
			r.t.Errorf("the logs show a secret:\n%s", logs)
		}
		if strings.Contains(evs, s) {
			r.t.Errorf("the events show a secret: %s", evs)
		}
	}
}

func connectOK(t *testing.T, c *xmppconn.Connection) {
	t.Helper()
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
}

// TestFASTLoginThenToken: a login with the password asks for a token; the
// next Connection sharing the store logs in with it, in one
// <authenticate/>, with the user agent id the token was issued to, and
// checks the server's proof. The token shows nowhere.
func TestFASTLoginThenToken(t *testing.T) {
	xmpptest.NoLeaks(t)
	store := auth.NewMemoryFASTStore()
	rig := newFASTRig(t, store)

	c1 := xmppconn.New(rig.config())
	rec1 := xmpptest.Record(c1)
	first := rig.serve(fastSuccess("", fastToken1))
	connectOK(t, c1)
	a := (<-first)[0]
	for _, want := range []string{"mechanism='PLAIN'", "<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/>"} {
		if !strings.Contains(a, want) {
			t.Errorf("first <authenticate/> lacks %s: %s", want, a)
		}
	}
	agent := userAgentID.FindStringSubmatch(a)[1]
	if err := c1.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}

	c2 := xmppconn.New(rig.config())
	rec2 := xmpptest.Record(c2)
	second := rig.serve(fastSuccess(fastToken1, ""))
	connectOK(t, c2)
	a = (<-second)[0]
	initial := base64.StdEncoding.EncodeToString(append([]byte("alice\x00"), htMAC(fastToken1, "Initiator")...))
	for _, want := range []string{"mechanism='HT-SHA-256-NONE'", "<initial-response>" + initial + "</initial-response>",
		"<fast xmlns='urn:xmpp:fast:0'/>", "<user-agent id='" + agent + "'>", "<bind xmlns='urn:xmpp:bind:0'>"} {
		if !strings.Contains(a, want) {
			t.Errorf("FAST <authenticate/> lacks %s: %s", want, a)
		}
	}
	if strings.Contains(a, "request-token") {
		t.Errorf("a FAST login asked for another token: %s", a)
	}
	if err := c2.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	xmpptest.Flush(t, c2)
	want := []string{"state:CONNECTING", "state:CONNECTED", "established", "state:CLOSING", "state:CLOSED", "disconnected"}
	if diff := cmp.Diff(want, rec2.Names()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	rig.noSecrets(rec1, fastToken1)
	rig.noSecrets(rec2, fastToken1)

	// Disconnect gave the token back: it can be taken again.
	if tok, ok, _ := store.Take("alice@example.net"); !ok || !tok.Secret.Equal(auth.NewSecret(fastToken1)) || tok.UserAgent != agent {
		t.Errorf("store after Disconnect: %v, %t", tok, ok)
	}
}

// TestFASTReconnectUsesToken: the same Connection, after losing its
// stream, logs in again with its token (a rotation replaces it).
func TestFASTReconnectUsesToken(t *testing.T) {
	xmpptest.NoLeaks(t)
	store := auth.NewMemoryFASTStore()
	rig := newFASTRig(t, store)
	cfg := rig.config()
	cfg.StreamManagement.Disabled = true
	cfg.Reconnect.Delay = func(int) time.Duration { return time.Millisecond }
	c := xmppconn.New(cfg)
	rec := xmpptest.Record(c)
	first := rig.serve(fastSuccess("", fastToken1))
	connectOK(t, c)
	<-first
	// The server drops the stream (serve does it); the reconnection uses
	// the token and gets a new one.
	second := rig.serve(fastSuccess(fastToken1, fastToken2))
	rec.WaitForNth(t, 10*time.Second, "second ConnectionEstablished", 2, func(e events.Event) bool {
		return e.Type() == events.ConnectionEstablished
	})
	a := (<-second)[0]
	if !strings.Contains(a, "mechanism='HT-SHA-256-NONE'") {
		t.Errorf("the reconnection did not use the token: %s", a)
	}
	// And the one after uses the rotated token.
	third := rig.serve(fastSuccess(fastToken2, ""))
	rec.WaitForNth(t, 10*time.Second, "third ConnectionEstablished", 3, func(e events.Event) bool {
		return e.Type() == events.ConnectionEstablished
	})
	a = (<-third)[0]
	initial := base64.StdEncoding.EncodeToString(append([]byte("alice\x00"), htMAC(fastToken2, "Initiator")...))
	if !strings.Contains(a, initial) {
		t.Errorf("the login after the rotation did not present the new token: %s", a)
	}
	if err := c.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	rig.noSecrets(rec, fastToken1, fastToken2)
}

// TestFASTRefusedFallsBack: a refused token (or one found expired) is
// dropped and the same attempt logs in with the password, on the same
// stream for a refusal, asking for a new token; no event tells, no log or
// event shows the token, even one the server echoes.
func TestFASTRefusedFallsBack(t *testing.T) {
	cases := []struct {
		name    string
		expiry  time.Time
		answers []string
		// want: the mechanisms of the <authenticate/>s, in order
		want []string
	}{
		{"refused", time.Time{}, []string{
			`<failure xmlns='urn:xmpp:sasl:2'><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><text>bad ` + fastToken1 + `</text></failure>`,
			fastSuccess("", fastToken2)},
			[]string{"HT-SHA-256-NONE", "PLAIN"}},
		{"expired at the server", time.Now().Add(time.Hour), []string{
			`<failure xmlns='urn:xmpp:sasl:2'><credentials-expired xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></failure>`,
			fastSuccess("", fastToken2)},
			[]string{"HT-SHA-256-NONE", "PLAIN"}},
		{"expired here", time.Now().Add(-time.Hour), []string{fastSuccess("", fastToken2)},
			[]string{"PLAIN"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			store := auth.NewMemoryFASTStore()
			if err := store.Save("alice@example.net", auth.FASTToken{Mechanism: auth.MechHTNone, Secret: auth.NewSecret(fastToken1), Expiry: tc.expiry, UserAgent: "agent-1"}); err != nil {
				t.Fatal(err)
			}
			_ = store.Release("alice@example.net", "agent-1")
			rig := newFASTRig(t, store)
			c := xmppconn.New(rig.config())
			rec := xmpptest.Record(c)
			got := rig.serve(tc.answers...)
			connectOK(t, c)
			auths := <-got
			var mechs []string
			for _, a := range auths {
				mechs = append(mechs, regexp.MustCompile(`mechanism='([^']+)'`).FindStringSubmatch(a)[1])
				// Once the token was presented, the Connection keeps its
				// user agent; an expired one it never adopts.
				if presented := tc.want[0] != "PLAIN"; presented != strings.Contains(a, "<user-agent id='agent-1'>") {
					t.Errorf("token presented %t, user agent: %s", presented, a)
				}
			}
			if diff := cmp.Diff(tc.want, mechs); diff != "" {
				t.Errorf("mechanisms (-want +got):\n%s", diff)
			}
			if last := auths[len(auths)-1]; !strings.Contains(last, "<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/>") {
				t.Errorf("the password login did not ask for a new token: %s", last)
			}
			if err := c.Disconnect(context.Background()); err != nil {
				t.Fatal(err)
			}
			xmpptest.Flush(t, c)
			want := []string{"state:CONNECTING", "state:CONNECTED", "established", "state:CLOSING", "state:CLOSED", "disconnected"}
			if diff := cmp.Diff(want, rec.Names()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			rig.noSecrets(rec, fastToken1, fastToken2)
			tok, ok, _ := store.Take("alice@example.net")
			if !ok || !tok.Secret.Equal(auth.NewSecret(fastToken2)) {
				t.Errorf("store holds %v, %t; want the new token", tok, ok)
			}
			if _, ok, _ := store.Take("alice@example.net"); ok {
				t.Error("the refused token is still in the store")
			}
		})
	}
}

// TestFASTWrongServerProof: a server that accepts the token but cannot
// prove it knows it fails the attempt (it may be an impostor); the token is
// dropped.
func TestFASTWrongServerProof(t *testing.T) {
	xmpptest.NoLeaks(t)
	store := auth.NewMemoryFASTStore()
	_ = store.Save("alice@example.net", auth.FASTToken{Mechanism: auth.MechHTNone, Secret: auth.NewSecret(fastToken1), UserAgent: "agent-1"})
	_ = store.Release("alice@example.net", "agent-1")
	rig := newFASTRig(t, store)
	c := xmppconn.New(rig.config())
	rec := xmpptest.Record(c)
	got := rig.serve(fastSuccess("another token", ""))
	err := c.Connect(xmpptest.Context(t))
	<-got
	if !errors.Is(err, auth.ErrServerSignature) {
		t.Fatalf("Connect: %v, want ErrServerSignature", err)
	}
	if _, ok, _ := store.Take("alice@example.net"); ok {
		t.Error("the token is still in the store")
	}
	_ = c.Disconnect(context.Background())
	rig.noSecrets(rec, fastToken1)
}

// TestFASTDisabled: with FAST off, the client neither asks for nor uses a
// token.
func TestFASTDisabled(t *testing.T) {
	xmpptest.NoLeaks(t)
	store := auth.NewMemoryFASTStore()
	_ = store.Save("alice@example.net", auth.FASTToken{Mechanism: auth.MechHTNone, Secret: auth.NewSecret(fastToken1), UserAgent: "agent-1"})
	_ = store.Release("alice@example.net", "agent-1")
	rig := newFASTRig(t, store)
	cfg := rig.config()
	cfg.SASL2.FAST.Disabled = true
	c := xmppconn.New(cfg)
	got := rig.serve(fastSuccess("", fastToken2))
	connectOK(t, c)
	a := (<-got)[0]
	if strings.Contains(a, "fast:0") || !strings.Contains(a, "mechanism='PLAIN'") {
		t.Errorf("FAST used while disabled: %s", a)
	}
	_ = c.Disconnect(context.Background())
}
