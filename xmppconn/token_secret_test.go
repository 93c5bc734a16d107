package xmppconn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// TestTokenNeverShown: a token-authenticated connection whose dial fails
// (net/http and the WebSocket dialer put the URL, token included, into
// their errors) shows the token nowhere: not in the returned error, the
// events (Go and JSON forms) or the debug log.
func TestTokenNeverShown(t *testing.T) {
	const secret = "s3cret-token-Zq9"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // a closed port: the dial fails

	for _, u := range []string{"ws://" + addr + "/xmpp-websocket", "http://" + addr + "/http-bind"} {
		t.Run(strings.SplitN(u, ":", 2)[0], func(t *testing.T) {
			var logs bytes.Buffer
			c := xmppconn.New(xmppconn.Config{
				URL:    u,
				Domain: "example.com",
				Token:  auth.StaticToken(secret),
				Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			})
			rec := xmpptest.Record(c)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := c.Connect(ctx)
			if err == nil {
				t.Fatal("Connect to a closed port succeeded")
			}
			xmpptest.Flush(t, c)
			var shown []string
			shown = append(shown, err.Error(), fmt.Sprintf("%+v", err), logs.String())
			for _, e := range rec.All() {
				js, _ := json.Marshal(e)
				shown = append(shown, fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e), string(js))
				if f, ok := e.(events.Failed); ok && f.Cause != nil {
					shown = append(shown, f.Cause.Error())
				}
			}
			for _, s := range shown {
				if strings.Contains(s, secret) {
					t.Fatalf("the token shows in %q", s)
				}
			}
			if !strings.Contains(logs.String(), "token=REDACTED") {
				t.Errorf("the dial log does not name the redacted URL:\n%s", logs.String())
			}
		})
	}
}
