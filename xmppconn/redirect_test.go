package xmppconn_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/xmppconn"
)

const (
	framingOpen = `<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='%s' id='redir-1' version='1.0'/>`
	nsFraming   = "urn:ietf:params:xml:ns:xmpp-framing"
)

// wsEndpoint starts an in-process WebSocket endpoint (subprotocol xmpp)
// whose every connection runs script. It is closed when the test ends.
func wsEndpoint(t *testing.T, secure bool, script func(ctx context.Context, c *websocket.Conn)) *httptest.Server {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"xmpp"}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		script(ctx, c)
		// Wait for the client to go away (it closes after a redirect).
		for {
			_, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			if strings.HasPrefix(string(msg), "<close") {
				wsWrite(ctx, c, `<close xmlns='`+nsFraming+`'/>`)
				_ = c.Close(websocket.StatusNormalClosure, "")
				return
			}
		}
	})
	var srv *httptest.Server
	if secure {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv
}

func wsWrite(ctx context.Context, c *websocket.Conn, s string) {
	_ = c.Write(ctx, websocket.MessageText, []byte(s))
}

// afterOpen reads the client's <open/> and answers it, so that the stream
// is open.
func afterOpen(ctx context.Context, c *websocket.Conn, domain string) {
	_, _, _ = c.Read(ctx)
	wsWrite(ctx, c, strings.Replace(framingOpen, "%s", domain, 1))
}

func closeSeeOther(target string) string {
	return `<close xmlns='` + nsFraming + `' see-other-uri='` + target + `'/>`
}

// wsURL returns the ws:// (or wss://) URL of an httptest server, with path.
func wsURL(srv *httptest.Server, path string) string {
	u, _ := url.Parse(srv.URL)
	if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	u.Path = path
	return u.String()
}

// hostPort returns the host:port of a URL.
func hostPort(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// TestRedirectFollowed checks each redirect form: it is reported with
// ConnectionRedirected (followed), and the connection reaches CONNECTED at
// the target, the real server, within one CONNECTING.
func TestRedirectFollowed(t *testing.T) { servertest.Each(t, testRedirectFollowed) }

func testRedirectFollowed(t *testing.T, s *servertest.Server) {
	wsTarget, boshTarget := s.WebSocketURL(false), s.BOSHURL(false)
	domain := s.AnonDomain
	cases := []struct {
		name   string
		start  func(t *testing.T) string // the URL the client is given
		kind   string
		target string
	}{
		{"close see-other-uri before open", func(t *testing.T) string {
			return wsURL(wsEndpoint(t, false, func(ctx context.Context, c *websocket.Conn) {
				wsWrite(ctx, c, closeSeeOther(wsTarget))
			}), "/xmpp-websocket")
		}, transport.RedirectSeeOtherURI, wsTarget},
		{"close see-other-uri after open", func(t *testing.T) string {
			return wsURL(wsEndpoint(t, false, func(ctx context.Context, c *websocket.Conn) {
				afterOpen(ctx, c, domain)
				wsWrite(ctx, c, closeSeeOther(wsTarget))
			}), "/xmpp-websocket")
		}, transport.RedirectSeeOtherURI, wsTarget},
		{"stream error see-other-host", func(t *testing.T) string {
			return wsURL(wsEndpoint(t, false, func(ctx context.Context, c *websocket.Conn) {
				afterOpen(ctx, c, domain)
				wsWrite(ctx, c, `<stream:error xmlns:stream='http://etherx.jabber.org/streams'><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>`+hostPort(t, wsTarget)+`</see-other-host></stream:error>`)
			}), "/xmpp-websocket")
		}, transport.RedirectSeeOtherHost, wsTarget},
		{"websocket http 307", func(t *testing.T) string {
			srv := httptest.NewServer(http.RedirectHandler(wsTarget, http.StatusTemporaryRedirect))
			t.Cleanup(srv.Close)
			return wsURL(srv, "/xmpp-websocket")
		}, transport.RedirectHTTP, wsTarget},
		{"bosh http 307", func(t *testing.T) string {
			srv := httptest.NewServer(http.RedirectHandler(boshTarget, http.StatusTemporaryRedirect))
			t.Cleanup(srv.Close)
			return srv.URL + "/http-bind"
		}, transport.RedirectHTTP, boshTarget},
		{"bosh terminate see-other-uri", func(t *testing.T) string {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "text/xml; charset=utf-8")
				_, _ = io.WriteString(w, `<body xmlns='http://jabber.org/protocol/httpbind' type='terminate' condition='see-other-uri'><uri>`+boshTarget+`</uri></body>`)
			}))
			t.Cleanup(srv.Close)
			return srv.URL + "/http-bind"
		}, transport.RedirectSeeOtherURI, boshTarget},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.target == boshTarget {
			}
			xmpptest.NoLeaks(t)
			cfg := xmpptest.ServerConfig(t, s, tc.start(t))
			cfg.Domain = domain
			cfg.Reconnect.Disabled = true
			c := xmppconn.New(cfg)
			rec := xmpptest.Record(c)
			if err := c.Connect(xmpptest.Context(t)); err != nil {
				t.Fatalf("Connect: %v", err)
			}
			defer func() { _ = c.Disconnect(context.Background()) }()
			xmpptest.Flush(t, c)
			want := []string{"state:CONNECTING", string(events.ConnectionRedirected), "state:CONNECTED", "established"}
			if got := rec.Names(); !equalStrings(got, want) {
				t.Errorf("events = %v, want %v", got, want)
			}
			var rd events.Redirected
			for _, e := range rec.All() {
				if v, ok := e.(events.Redirected); ok {
					rd = v
				}
			}
			if rd != (events.Redirected{Target: tc.target, Kind: tc.kind, Followed: true}) {
				t.Errorf("ConnectionRedirected = %+v, want target %s kind %s followed", rd, tc.target, tc.kind)
			}
			if got := c.Endpoint(); got != tc.target {
				t.Errorf("Endpoint() = %s, want %s", got, tc.target)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
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

// TestRedirectRefused checks that a downgrade, a fourth hop and a foreign
// domain are refused: ConnectionRedirected (not followed), then exactly one
// ConnectionFailed naming the reason, and Connect returns at once.
func TestRedirectRefused(t *testing.T) {
	cases := []struct {
		name      string
		start     func(t *testing.T) (url string, hc *http.Client)
		reason    string
		redirects int // ConnectionRedirected events, the last one refused
	}{
		{"wss to ws", func(t *testing.T) (string, *http.Client) {
			srv := wsEndpoint(t, true, func(ctx context.Context, c *websocket.Conn) {
				afterOpen(ctx, c, "example.net")
				wsWrite(ctx, c, closeSeeOther("ws://127.0.0.1:1/xmpp-websocket"))
			})
			return wsURL(srv, "/xmpp-websocket"), srv.Client()
		}, xmppconn.RedirectReasonDowngrade, 1},
		{"https to http", func(t *testing.T) (string, *http.Client) {
			srv := httptest.NewTLSServer(http.RedirectHandler("http://127.0.0.1:1/http-bind", http.StatusFound))
			t.Cleanup(srv.Close)
			return srv.URL + "/http-bind", srv.Client()
		}, xmppconn.RedirectReasonDowngrade, 1},
		{"fourth hop", func(t *testing.T) (string, *http.Client) {
			// Every connection is sent on to the same endpoint again.
			var self string
			srv := wsEndpoint(t, false, func(ctx context.Context, c *websocket.Conn) {
				afterOpen(ctx, c, "example.net")
				wsWrite(ctx, c, closeSeeOther(self))
			})
			self = wsURL(srv, "/again")
			return wsURL(srv, "/xmpp-websocket"), nil
		}, xmppconn.RedirectReasonTooMany, 4},
		{"foreign domain", func(t *testing.T) (string, *http.Client) {
			srv := wsEndpoint(t, false, func(ctx context.Context, c *websocket.Conn) {
				wsWrite(ctx, c, closeSeeOther("ws://xmpp.other.example/xmpp-websocket"))
			})
			return wsURL(srv, "/xmpp-websocket"), nil
		}, xmppconn.RedirectReasonForeign, 1},
		{"foreign see-other-host", func(t *testing.T) (string, *http.Client) {
			srv := wsEndpoint(t, false, func(ctx context.Context, c *websocket.Conn) {
				afterOpen(ctx, c, "example.net")
				wsWrite(ctx, c, `<stream:error xmlns:stream='http://etherx.jabber.org/streams'><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>other.example:443</see-other-host></stream:error>`)
			})
			return wsURL(srv, "/xmpp-websocket"), nil
		}, xmppconn.RedirectReasonForeign, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			u, hc := tc.start(t)
			if hc != nil {
				t.Cleanup(hc.CloseIdleConnections)
			}
			c := xmppconn.New(xmppconn.Config{URL: u, Domain: "example.net", HTTPClient: hc})
			rec := xmpptest.Record(c)
			err := c.Connect(xmpptest.Context(t))
			var refused *xmppconn.RedirectRefusedError
			if !errors.As(err, &refused) || !strings.HasPrefix(refused.Reason, tc.reason) {
				t.Fatalf("Connect = %v, want a refused redirect (%s)", err, tc.reason)
			}
			xmpptest.Flush(t, c)
			var failed []events.Failed
			var redirects []events.Redirected
			for _, e := range rec.All() {
				switch v := e.(type) {
				case events.Failed:
					failed = append(failed, v)
				case events.Redirected:
					redirects = append(redirects, v)
				}
			}
			if len(failed) != 1 {
				t.Fatalf("%d ConnectionFailed, want exactly 1: %v", len(failed), rec.Names())
			}
			if !strings.Contains(failed[0].Reason, tc.reason) || failed[0].Err != events.OtherError {
				t.Errorf("ConnectionFailed = %s %q, want otherError naming %q", failed[0].Err, failed[0].Reason, tc.reason)
			}
			if len(redirects) != tc.redirects {
				t.Fatalf("%d ConnectionRedirected, want %d", len(redirects), tc.redirects)
			}
			for i, r := range redirects {
				if want := i < tc.redirects-1; r.Followed != want {
					t.Errorf("redirect %d followed = %v, want %v", i+1, r.Followed, want)
				}
			}
			if st := c.State(); st != events.StateFailed {
				t.Errorf("state = %v, want FAILED", st)
			}
		})
	}
}

// TestRedirectLiveSession checks a see-other-host stream error on a live
// stream: the session is reported redirected and re-established at the new
// host (same XMPP domain).
func TestRedirectLiveSession(t *testing.T) {
	xmpptest.NoLeaks(t)
	first, second := xmpptest.NewFakeConn(), xmpptest.NewFakeConn()
	dialed := make(chan string, 4)
	cfg := xmppconn.Config{
		URL: "wss://example.net/xmpp-websocket",
		// A redirect is followed at once, whatever the reconnect delay.
		Reconnect: xmppconn.ReconnectConfig{Delay: func(int) time.Duration { return time.Hour }},
		Dial: func(_ context.Context, u, _ string) (transport.Conn, error) {
			dialed <- u
			if len(dialed) == 1 {
				return first, nil
			}
			return second, nil
		},
	}
	c := xmppconn.New(cfg)
	rec := xmpptest.Record(c)
	done := make(chan error, 1)
	go func() { done <- c.Connect(xmpptest.Context(t)) }()
	first.Send(xmpptest.BindResult(first.ServeLogin(t)))
	if err := <-done; err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer func() { _ = c.Disconnect(context.Background()) }()

	first.Send(`<stream:error xmlns:stream='http://etherx.jabber.org/streams'><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>shard2.example.net</see-other-host></stream:error>`)
	second.Send(xmpptest.BindResult(second.ServeLogin(t)))
	rec.WaitForNth(t, 10*time.Second, "second ConnectionEstablished", 2, func(e events.Event) bool {
		return e.Type() == events.ConnectionEstablished
	})
	<-dialed
	if u := <-dialed; u != "wss://shard2.example.net/xmpp-websocket" {
		t.Errorf("second dial to %s, want wss://shard2.example.net/xmpp-websocket", u)
	}
	want := []string{"state:CONNECTING", "state:CONNECTED", "established",
		"state:DISCONNECTED", string(events.ConnectionRedirected), "state:RECONNECTING", "state:CONNECTED", "established"}
	if got := rec.Names(); !equalStrings(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
}

// TestRedirectLiveRefused: a see-other-host to another domain on a live
// stream is reported, not followed, and ends in exactly one
// ConnectionFailed naming it, without a dial.
func TestRedirectLiveRefused(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	var dials int
	cfg := f.Config()
	cfg.Reconnect.Delay = func(int) time.Duration { return 0 }
	cfg.Dial = func(context.Context, string, string) (transport.Conn, error) {
		dials++
		return f, nil
	}
	c := xmppconn.New(cfg)
	rec := xmpptest.Record(c)
	done := make(chan error, 1)
	go func() { done <- c.Connect(xmpptest.Context(t)) }()
	f.Send(xmpptest.BindResult(f.ServeLogin(t)))
	if err := <-done; err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer func() { _ = c.Disconnect(context.Background()) }()
	f.Send(`<stream:error xmlns:stream='http://etherx.jabber.org/streams'><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>xmpp.other.example</see-other-host></stream:error>`)
	failed := rec.WaitFor(t, 10*time.Second, "ConnectionFailed", func(e events.Event) bool {
		return e.Type() == events.ConnectionFailed
	}).(events.Failed)
	if !strings.Contains(failed.Reason, xmppconn.RedirectReasonForeign) {
		t.Errorf("ConnectionFailed reason %q, want it to name %q", failed.Reason, xmppconn.RedirectReasonForeign)
	}
	xmpptest.Flush(t, c)
	want := []string{"state:CONNECTING", "state:CONNECTED", "established",
		"state:DISCONNECTED", string(events.ConnectionRedirected), "state:FAILED", "failed:" + string(events.DroppedError)}
	if got := rec.Names(); !equalStrings(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
	if dials != 1 {
		t.Errorf("%d dials, want 1", dials)
	}
}
