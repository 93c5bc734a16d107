package tokentest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mellium.im/xmpp/ping"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// The endpoints of the token tests: Config.Token over WebSocket and BOSH.
var tokenEndpoints = []struct {
	name string
	url  func(*servertest.Server) string
}{
	{"wss", func(s *servertest.Server) string { return s.WebSocketURL(true) }},
	{"bosh", func(s *servertest.Server) string { return s.BOSHURL(true) }},
}

// eventLog keeps the events of a connection.
type eventLog struct {
	mu  sync.Mutex
	evs []events.Event
	ch  chan events.Event
}

func logEvents(c *xmppconn.Connection) *eventLog {
	l := &eventLog{ch: make(chan events.Event, 64)}
	c.OnAny(func(e events.Event) {
		l.mu.Lock()
		l.evs = append(l.evs, e)
		l.mu.Unlock()
		select {
		case l.ch <- e:
		default:
		}
	})
	return l
}

func (l *eventLog) all() []events.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]events.Event(nil), l.evs...)
}

func (l *eventLog) count(t events.Type) int {
	n := 0
	for _, e := range l.all() {
		if e.Type() == t {
			n++
		}
	}
	return n
}

// wait returns the next event of type typ, or fails the test.
func (l *eventLog) wait(ctx context.Context, t *testing.T, typ events.Type) events.Event {
	t.Helper()
	for {
		select {
		case e := <-l.ch:
			if e.Type() == typ {
				return e
			}
		case <-ctx.Done():
			t.Fatalf("no %s event; events: %v", typ, l.all())
			return nil
		}
	}
}

// noSecret fails the test if any event or err shows one of the tokens.
func noSecret(t *testing.T, l *eventLog, err error, toks ...string) {
	t.Helper()
	for _, e := range l.all() {
		b, _ := json.Marshal(e)
		for _, tok := range toks {
			if strings.Contains(string(b), tok) {
				t.Errorf("event %s shows the token", e.Type())
			}
		}
	}
	for _, tok := range toks {
		if err != nil && strings.Contains(err.Error(), tok) {
			t.Errorf("error %q shows the token", err)
		}
	}
}

func tokenConfig(t *testing.T, srv *servertest.Server, u string, src auth.TokenSource) xmppconn.Config {
	hc := srv.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	return xmppconn.Config{URL: u, Domain: tokenDomain, HTTPClient: hc, Token: src}
}

func TestConnectionTokenValid(t *testing.T) {
	servertest.EachWith(t, servertest.ProsodyModules, testConnectionTokenValid)
}

func testConnectionTokenValid(t *testing.T, srv *servertest.Server) {
	for _, ep := range tokenEndpoints {
		t.Run(ep.name, func(t *testing.T) {
			ctx := testContext(t)
			tok := token(t, time.Now().Add(time.Hour))
			cfg := tokenConfig(t, srv, ep.url(srv), auth.StaticToken(tok))
			// Credentials are ignored with a token: SASL ANONYMOUS.
			cfg.Credentials = auth.Credentials{Username: "nobody", Password: auth.NewSecret("x")}
			c := xmppconn.New(cfg)
			l := logEvents(c)
			if err := c.Connect(ctx); err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if d := c.JID().Domainpart(); d != tokenDomain {
				t.Errorf("JID %v, want one on %s", c.JID(), tokenDomain)
			}
			if strings.Contains(c.Endpoint(), tok) {
				t.Error("Endpoint() shows the token")
			}
			if err := c.Disconnect(ctx); err != nil {
				t.Error(err)
			}
			if n := l.count(events.ConnectionTokenExpired); n != 0 {
				t.Errorf("%d ConnectionTokenExpired for a valid token", n)
			}
			noSecret(t, l, nil, tok)
		})
	}
}

// TestConnectionTokenExpiredNoNetwork: an expired token and a source with
// no other end the attempt before any dial.
func TestConnectionTokenExpiredNoNetwork(t *testing.T) {
	servertest.EachWith(t, servertest.ProsodyModules, testConnectionTokenExpiredNoNetwork)
}

func testConnectionTokenExpiredNoNetwork(t *testing.T, srv *servertest.Server) {
	for _, ep := range tokenEndpoints {
		t.Run(ep.name, func(t *testing.T) {
			ctx := testContext(t)
			exp := time.Now().Add(-time.Minute).Truncate(time.Second)
			tok := token(t, exp)
			cfg := tokenConfig(t, srv, ep.url(srv), auth.StaticToken(tok))
			var dials atomic.Int32
			cfg.Dial = func(context.Context, string, string) (transport.Conn, error) {
				dials.Add(1)
				return nil, errors.New("dial must not happen")
			}
			c := xmppconn.New(cfg)
			l := logEvents(c)
			err := c.Connect(ctx)
			if !errors.Is(err, events.PasswordRequired) || !errors.Is(err, auth.ErrNoToken) {
				t.Fatalf("Connect = %v, want passwordRequired wrapping auth.ErrNoToken", err)
			}
			if n := dials.Load(); n != 0 {
				t.Errorf("%d dials, want none", n)
			}
			if err := c.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			var types []events.Type
			for _, e := range l.all() {
				types = append(types, e.Type())
			}
			want := []events.Type{events.StateChanged, events.ConnectionTokenExpired, events.StateChanged, events.ConnectionFailed}
			if !equalTypes(types, want) {
				t.Fatalf("events %v, want %v", types, want)
			}
			te := l.all()[1].(events.TokenExpired)
			if te.Expires != exp.UTC().Format(time.RFC3339) {
				t.Errorf("Expires = %q, want %s", te.Expires, exp.UTC().Format(time.RFC3339))
			}
			noSecret(t, l, err, tok)
		})
	}
}

func equalTypes(a, b []events.Type) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// freshAfter is a token source that offers first, and fresh once first was
// refused; it records what it was asked.
type freshAfter struct {
	first, fresh string
	mu           sync.Mutex
	refused      []string
}

func (f *freshAfter) Token(_ context.Context, refused auth.Secret) (auth.Secret, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refused = append(f.refused, refused.Reveal())
	switch refused.Reveal() {
	case "":
		return auth.NewSecret(f.first), nil
	case f.first:
		return auth.NewSecret(f.fresh), nil
	}
	return auth.Secret{}, auth.ErrNoToken
}

func (f *freshAfter) asked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.refused...)
}

// TestConnectionTokenRefreshed: an expired token (seen by the client, or
// refused by the server) is replaced by the source's fresh one.
func TestConnectionTokenRefreshed(t *testing.T) {
	servertest.EachWith(t, servertest.ProsodyModules, testConnectionTokenRefreshed)
}

func testConnectionTokenRefreshed(t *testing.T, srv *servertest.Server) {
	cases := []struct {
		name   string
		domain string
		clock  time.Duration // the client's clock offset: -2h makes it miss the expiry
	}{
		{"client check", tokenDomain, 0},
		{"server refusal not-allowed", tokenDomain, -2 * time.Hour},
		{"server refusal credentials-expired", "token2.localhost", -2 * time.Hour},
	}
	for _, ep := range tokenEndpoints {
		for _, tc := range cases {
			t.Run(ep.name+"/"+tc.name, func(t *testing.T) {
				ctx := testContext(t)
				src := &freshAfter{first: token(t, time.Now().Add(-time.Minute)), fresh: token(t, time.Now().Add(time.Hour))}
				cfg := tokenConfig(t, srv, ep.url(srv), src)
				cfg.Domain = tc.domain
				cfg.Clock = func() time.Time { return time.Now().Add(tc.clock) }
				c := xmppconn.New(cfg)
				l := logEvents(c)
				err := c.Connect(ctx)
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				defer func() { _ = c.Disconnect(ctx) }()
				if n := l.count(events.ConnectionTokenExpired); n != 1 {
					t.Errorf("%d ConnectionTokenExpired, want 1", n)
				}
				if got := src.asked(); len(got) != 2 || got[0] != "" || got[1] != src.first {
					t.Errorf("the source was asked with refused tokens %d times, want twice (none, then the expired one)", len(got))
				}
				noSecret(t, l, err, src.first, src.fresh)
			})
		}
	}
}

// TestConnectionTokenRefusedNoOther: the server refuses the token as
// expired and the source has no other: passwordRequired with the SASL
// condition, no retry.
func TestConnectionTokenRefusedNoOther(t *testing.T) {
	servertest.EachWith(t, servertest.ProsodyModules, testConnectionTokenRefusedNoOther)
}

func testConnectionTokenRefusedNoOther(t *testing.T, srv *servertest.Server) {
	ctx := testContext(t)
	tok := token(t, time.Now().Add(-time.Minute))
	cfg := tokenConfig(t, srv, srv.WebSocketURL(true), auth.StaticToken(tok))
	cfg.Clock = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	c := xmppconn.New(cfg)
	l := logEvents(c)
	err := c.Connect(ctx)
	var f events.Failed
	if !errors.As(err, &f) || f.Err != events.PasswordRequired || f.Details.Condition != "not-allowed" {
		t.Fatalf("Connect = %v, want passwordRequired with condition not-allowed", err)
	}
	if n := l.count(events.ConnectionTokenExpired); n != 1 {
		t.Errorf("%d ConnectionTokenExpired, want 1", n)
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := l.count(events.ConnectionFailed); n != 1 {
		t.Errorf("%d ConnectionFailed, want 1", n)
	}
	noSecret(t, l, err, tok)
}

// offsetClock is a client clock a test moves forward.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) advance(d time.Duration) { c.off.Add(int64(d)) }

// TestConnectionTokenExpiresDuringSession: the token expires while the
// session is up; the stream is cut server-side; the resumption asks for a
// fresh token first, and resumes the same full JID with it.
func TestConnectionTokenExpiresDuringSession(t *testing.T) {
	servertest.EachWith(t, servertest.ProsodyModules, testConnectionTokenExpiresDuringSession)
}

func testConnectionTokenExpiresDuringSession(t *testing.T, srv *servertest.Server) {
	for _, ep := range tokenEndpoints {
		t.Run(ep.name, func(t *testing.T) {
			ctx := testContext(t)
			src := &freshAfter{first: token(t, time.Now().Add(time.Hour)), fresh: token(t, time.Now().Add(3*time.Hour))}
			cfg := tokenConfig(t, srv, ep.url(srv), src)
			clock := &offsetClock{}
			cfg.Clock = clock.now
			cfg.Reconnect.Delay = func(int) time.Duration { return 0 }
			cfg.Ping.Timeout = time.Second // bounds the BOSH resumption Prosody leaves unanswered
			c := xmppconn.New(cfg)
			l := logEvents(c)
			if err := c.Connect(ctx); err != nil {
				t.Fatalf("Connect: %v", err)
			}
			defer func() { _ = c.Disconnect(ctx) }()
			full := c.JID().String()
			waitResumable(ctx, t, srv, c)

			clock.advance(2 * time.Hour) // the first token has expired
			if n, err := srv.KillSessions(ctx, full, ""); err != nil || n != 1 {
				t.Fatalf("cut %s: %d, %v", full, n, err)
			}
			l.wait(ctx, t, events.ConnectionTokenExpired)
			est := l.wait(ctx, t, events.ConnectionEstablished).(events.Established)
			if est.JID != full {
				t.Errorf("after the resumption JID %s, want %s", est.JID, full)
			}
			if ep.name == "wss" && !est.Resumed {
				t.Error("the session was not resumed")
			}
			if got := src.asked(); len(got) != 2 || got[1] != src.first {
				t.Errorf("the source was asked %d times, want twice (the second with the expired token)", len(got))
			}
			noSecret(t, l, nil, src.first, src.fresh)
		})
	}
}

// TestConnectionRefreshToken: RefreshToken on a live session moves it to a
// new stream with the new token, keeping the same full JID: resumed over
// WebSocket; over BOSH, where Prosody (0.12.3 and 13.0.1) leaves the resumption
// unanswered, by a new bind that previd gives the same user.
func TestConnectionRefreshToken(t *testing.T) {
	servertest.EachWith(t, servertest.ProsodyModules, testConnectionRefreshToken)
}

func testConnectionRefreshToken(t *testing.T, srv *servertest.Server) {
	for _, ep := range tokenEndpoints {
		t.Run(ep.name, func(t *testing.T) {
			ctx := testContext(t)
			first, second := token(t, time.Now().Add(time.Hour)), token(t, time.Now().Add(2*time.Hour))
			cfg := tokenConfig(t, srv, ep.url(srv), auth.StaticToken(first))
			cfg.Ping.Timeout = time.Second // bounds the BOSH resumption Prosody leaves unanswered
			c := xmppconn.New(cfg)
			l := logEvents(c)
			if err := c.Connect(ctx); err != nil {
				t.Fatalf("Connect: %v", err)
			}
			defer func() { _ = c.Disconnect(ctx) }()
			full := c.JID().String()
			l.wait(ctx, t, events.ConnectionEstablished)
			waitResumable(ctx, t, srv, c)
			inBackground := false
			if err := c.RefreshToken(ctx, second); err != nil {
				// Prosody's mod_bosh (often on 13.0.1) ends the old BOSH
				// session when the new one binds its resource, answers the
				// old session's held request and then closes that kept-alive
				// HTTP connection, on which the client may already have
				// sent a request of the new session. The client sends the
				// lost request again, and mod_bosh answers a repeated rid
				// with item-not-found instead of the answer it gave. The
				// refresh attempt fails and, as RefreshToken says, recovery
				// goes on in the background, with a new session (the old
				// one, which previd named, is gone by then).
				if !srv.Kind.IsProsody() || ep.name != "bosh" || !strings.Contains(err.Error(), "item-not-found") {
					t.Fatalf("RefreshToken: %v", err)
				}
				t.Logf("RefreshToken: %v (Prosody's BOSH fault above); recovering in the background", err)
				inBackground = true
			}
			est := l.wait(ctx, t, events.ConnectionEstablished).(events.Established)
			if !inBackground && (est.JID != full || (ep.name == "wss" && !est.Resumed)) {
				t.Errorf("after RefreshToken %+v, want %s (resumed over WebSocket)", est, full)
			}
			if st := c.State(); st != events.StateConnected {
				t.Errorf("state %v, want CONNECTED", st)
			}
			if err := c.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			var states []string
			for _, e := range l.all() {
				if sc, ok := e.(events.StateChange); ok {
					states = append(states, sc.State.String())
				}
			}
			if want := "CONNECTING CONNECTED RECONNECTING CONNECTED"; !inBackground && strings.Join(states, " ") != want {
				t.Errorf("states %v, want %s", states, want)
			}
			noSecret(t, l, nil, first, second)
		})
	}
}

// waitResumable waits until the server enabled resumable stream management
// for c's session, then makes one IQ round trip, so that the client has
// read the server's <enabled/> (it comes before the answer).
func waitResumable(ctx context.Context, t *testing.T, srv *servertest.Server, c *xmppconn.Connection) {
	t.Helper()
	full := c.JID().String()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		infos, err := srv.SessionDetails(ctx, full)
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) == 1 && infos[0].SM && infos[0].Resumable {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("stream management never enabled for %s: %+v", full, infos)
		case <-tick.C:
		}
	}
	if err := ping.Send(ctx, c.Session(), c.JID().Domain()); err != nil {
		t.Fatalf("ping: %v", err)
	}
}
