package xmppconn_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/transport/websocket"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// TestUpgradeRefusedStatus: a WebSocket upgrade answered with a plain HTTP
// status reports that status in the failure's details.
func TestUpgradeRefusedStatus(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusInternalServerError, http.StatusForbidden} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			xmpptest.NoLeaks(t)
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(status)
			}))
			defer hs.Close()
			c := xmppconn.New(xmppconn.Config{
				URL: "ws" + strings.TrimPrefix(hs.URL, "http") + "/xmpp-websocket", Domain: "example.net",
				HTTPClient: hs.Client(),
			})
			err := c.Connect(xmpptest.Context(t))
			f, ok := err.(events.Failed)
			if !ok || f.Details.HTTPStatus != status {
				t.Fatalf("Connect = %#v, want a failure with http_status %d", err, status)
			}
			hs.Client().CloseIdleConnections()
		})
	}
}

// TestReconnectsAll503IsServerError: a live session whose every reconnect
// is refused with HTTP 503 ends as connection.serverError, not
// connection.droppedError.
func TestReconnectsAll503IsServerError(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	cfg := f.Config()
	cfg.Ping.Disabled = true
	cfg.Reconnect = xmppconn.ReconnectConfig{Attempts: 2, Delay: func(int) time.Duration { return 0 }}
	dials := 0
	cfg.Dial = func(context.Context, string, string) (transport.Conn, error) {
		if dials++; dials == 1 {
			return f, nil
		}
		return nil, &websocket.HandshakeError{Status: http.StatusServiceUnavailable}
	}
	c := xmppconn.New(cfg)
	rec := xmpptest.Record(c)
	defer c.Disconnect(context.Background())
	go func() { f.Send(xmpptest.BindResult(f.ServeLogin(t))) }()
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatal(err)
	}
	close(f.ToClient)
	ev := rec.WaitFor(t, 10*time.Second, "ConnectionFailed", xmpptest.Is(events.ConnectionFailed)).(events.Failed)
	if ev.Err != events.ServerError || ev.Details.HTTPStatus != http.StatusServiceUnavailable {
		t.Errorf("ConnectionFailed = %s (http_status %d), want serverError with 503", ev.Err, ev.Details.HTTPStatus)
	}
}
