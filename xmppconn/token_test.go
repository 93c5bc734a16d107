package xmppconn_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// jwtExp returns an unsigned-looking JWT whose exp is exp (the client never
// verifies signatures).
func jwtExp(exp time.Time) string {
	b := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	return b(`{"alg":"HS256","typ":"JWT"}`) + "." + b(`{"exp":`+strconv.FormatInt(exp.Unix(), 10)+`}`) + "." + b("sig")
}

// tokenDialer records the URLs dialled and hands out fake connections.
type tokenDialer struct {
	mu    sync.Mutex
	urls  []string
	conns chan *xmpptest.FakeConn
}

func (d *tokenDialer) dial(_ context.Context, u, _ string) (transport.Conn, error) {
	d.mu.Lock()
	d.urls = append(d.urls, u)
	d.mu.Unlock()
	select {
	case f := <-d.conns:
		return f, nil
	default:
		return nil, errors.New("no connection prepared")
	}
}

func (d *tokenDialer) dialled() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.urls...)
}

func TestTokenOnURL(t *testing.T) {
	xmpptest.NoLeaks(t)
	tok := jwtExp(time.Now().Add(time.Hour)) + "+/="
	f := xmpptest.NewFakeConn()
	d := &tokenDialer{conns: make(chan *xmpptest.FakeConn, 1)}
	d.conns <- f
	cfg := f.Config()
	cfg.URL = "wss://example.net/xmpp-websocket?room=a"
	cfg.Dial = d.dial
	cfg.Token = auth.StaticToken(tok)
	cfg.Credentials = auth.Credentials{Username: "ignored", Password: auth.NewSecret("pw")}
	cfg.Mechanisms = []string{"PLAIN"}
	c := xmppconn.New(cfg)
	done := make(chan error, 1)
	go func() { done <- c.Connect(xmpptest.Context(t)) }()
	f.Send(xmpptest.BindResult(f.ServeLogin(t))) // serveLogin expects ANONYMOUS
	if err := <-done; err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer func() { _ = c.Disconnect(context.Background()) }()
	urls := d.dialled()
	if len(urls) != 1 {
		t.Fatalf("dialled %v", urls)
	}
	u, err := url.Parse(urls[0])
	if err != nil {
		t.Fatal(err)
	}
	if q := u.Query(); q.Get("token") != tok || q.Get("room") != "a" || q.Has("previd") {
		t.Errorf("dialled %s, want room=a and the token, no previd", urls[0])
	}
	if strings.Contains(c.Endpoint(), "token") {
		t.Errorf("Endpoint() = %s, want no token", c.Endpoint())
	}
}

func TestTokenSourceErrors(t *testing.T) {
	expired := jwtExp(time.Now().Add(-time.Hour))
	fetchErr := errors.New("token service unreachable")
	cases := []struct {
		name        string
		src         auth.TokenSource
		wantErr     error
		wantExpired int
	}{
		{"source has none", auth.TokenFunc(func(context.Context, auth.Secret) (auth.Secret, error) {
			return auth.Secret{}, auth.ErrNoToken
		}), auth.ErrNoToken, 0},
		{"source fails", auth.TokenFunc(func(context.Context, auth.Secret) (auth.Secret, error) {
			return auth.Secret{}, fetchErr
		}), fetchErr, 0},
		{"source gives an empty token", auth.TokenFunc(func(context.Context, auth.Secret) (auth.Secret, error) {
			return auth.Secret{}, nil
		}), auth.ErrNoToken, 0},
		{"expired static token", auth.StaticToken(expired), auth.ErrNoToken, 1},
		{"source hands back the expired token", auth.TokenFunc(func(context.Context, auth.Secret) (auth.Secret, error) {
			return auth.NewSecret(expired), nil
		}), auth.ErrNoToken, 1},
		{"source gives only expired tokens", expiredSource(), nil, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			d := &tokenDialer{conns: make(chan *xmpptest.FakeConn)}
			c := xmppconn.New(xmppconn.Config{URL: "wss://example.net/ws", Dial: d.dial, Token: tc.src})
			rec := xmpptest.Record(c)
			err := c.Connect(xmpptest.Context(t))
			var te *xmppconn.TokenError
			if !errors.Is(err, events.PasswordRequired) || !errors.As(err, &te) {
				t.Fatalf("Connect = %v, want passwordRequired from a *TokenError", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("Connect = %v, want it to wrap %v", err, tc.wantErr)
			}
			if len(d.dialled()) != 0 {
				t.Error("dialled without a usable token")
			}
			xmpptest.Flush(t, c)
			n := 0
			for _, e := range rec.All() {
				if e.Type() == events.ConnectionTokenExpired {
					n++
				}
			}
			if n != tc.wantExpired {
				t.Errorf("%d ConnectionTokenExpired, want %d", n, tc.wantExpired)
			}
		})
	}
}

func TestRefreshTokenStored(t *testing.T) {
	xmpptest.NoLeaks(t)
	// Without Config.Token there is nothing to refresh.
	if err := xmppconn.New(xmppconn.Config{URL: "wss://example.net/ws"}).RefreshToken(context.Background(), "x"); err == nil {
		t.Error("RefreshToken without Config.Token succeeded")
	}
	// Before Connect, the new token replaces an expired one: no expiry event.
	fresh := jwtExp(time.Now().Add(time.Hour))
	f := xmpptest.NewFakeConn()
	d := &tokenDialer{conns: make(chan *xmpptest.FakeConn, 1)}
	d.conns <- f
	cfg := f.Config()
	cfg.Dial = d.dial
	cfg.Token = auth.StaticToken(jwtExp(time.Now().Add(-time.Hour)))
	c := xmppconn.New(cfg)
	rec := xmpptest.Record(c)
	if err := c.RefreshToken(context.Background(), ""); err == nil {
		t.Error("RefreshToken with an empty token succeeded")
	}
	if err := c.RefreshToken(context.Background(), fresh); err != nil {
		t.Fatalf("RefreshToken while CLOSED: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Connect(xmpptest.Context(t)) }()
	f.Send(xmpptest.BindResult(f.ServeLogin(t)))
	if err := <-done; err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer func() { _ = c.Disconnect(context.Background()) }()
	if u := d.dialled()[0]; !strings.Contains(u, "token="+fresh) {
		t.Errorf("dialled %s, want the refreshed token", auth.RedactURL(u))
	}
	xmpptest.Flush(t, c)
	for _, e := range rec.All() {
		if e.Type() == events.ConnectionTokenExpired {
			t.Error("ConnectionTokenExpired although a fresh token was handed over")
		}
	}
}

// expiredSource hands out a different expired token on every call.
func expiredSource() auth.TokenSource {
	var mu sync.Mutex
	n := 0
	return auth.TokenFunc(func(context.Context, auth.Secret) (auth.Secret, error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		return auth.NewSecret(jwtExp(time.Now().Add(-time.Duration(n) * time.Minute))), nil
	})
}

// TestTokenExpiredBeforeResume: the token expires while the session is up
// and the stream is lost; the recovery checks the token first, and with no
// fresh one ends in FAILED (passwordRequired) without dialling again.
func TestTokenExpiredBeforeResume(t *testing.T) {
	xmpptest.NoLeaks(t)
	var off atomic.Int64
	f := xmpptest.NewFakeConn()
	d := &tokenDialer{conns: make(chan *xmpptest.FakeConn, 1)}
	d.conns <- f
	cfg := f.Config()
	cfg.Dial = d.dial
	cfg.Token = auth.StaticToken(jwtExp(time.Now().Add(time.Hour)))
	cfg.Clock = func() time.Time { return time.Now().Add(time.Duration(off.Load())) }
	cfg.Reconnect.Delay = func(int) time.Duration { return 0 }
	c := xmppconn.New(cfg)
	rec := xmpptest.Record(c)
	done := make(chan error, 1)
	go func() { done <- c.Connect(xmpptest.Context(t)) }()
	f.Send(xmpptest.BindResult(f.ServeLogin(t)))
	if err := <-done; err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer func() { _ = c.Disconnect(context.Background()) }()

	off.Store(int64(2 * time.Hour))
	f.ReadErr = errors.New("connection reset")
	close(f.ToClient)
	failed := rec.WaitFor(t, 10*time.Second, "ConnectionFailed", func(e events.Event) bool {
		return e.Type() == events.ConnectionFailed
	}).(events.Failed)
	if failed.Err != events.PasswordRequired {
		t.Errorf("ConnectionFailed %s %q, want passwordRequired", failed.Err, failed.Reason)
	}
	xmpptest.Flush(t, c)
	want := []string{"state:CONNECTING", "state:CONNECTED", "established", "state:DISCONNECTED",
		"state:RECONNECTING", string(events.ConnectionTokenExpired), "state:FAILED", "failed:" + string(events.PasswordRequired)}
	if got := rec.Names(); !equalStrings(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
	if n := len(d.dialled()); n != 1 {
		t.Errorf("%d dials, want 1 (none for the recovery)", n)
	}
}
