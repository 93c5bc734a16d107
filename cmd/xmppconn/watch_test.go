package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
)

// waitOutput waits until out holds n occurrences of substr.
func waitOutput(t *testing.T, out *xmpptest.Buffer, substr string, n int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for strings.Count(out.String(), substr) < n {
		select {
		case <-deadline:
			t.Fatalf("output never held %d × %q:\n%s", n, substr, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestWatchStaysConnected: watch survives a server-side cut (the session is
// resumed or re-established), then closes cleanly when interrupted.
func TestWatchStaysConnected(t *testing.T) { servertest.Each(t, testWatchStaysConnected) }

func testWatchStaysConnected(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	var out, errOut xmpptest.Buffer
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"watch", "--json", "--jid", user + "@" + s.Domain, "--password-env", "PW", "--allow-plain", s.WebSocketURL(false)},
			&out, &errOut, func(k string) string { return map[string]string{"PW": pass}[k] })
	}()
	waitOutput(t, &out, `"event":"connection.connectionEstablished"`, 1)
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var full string
	for _, l := range jsonLines(t, out.String()) {
		if l["event"] == "connection.connectionEstablished" {
			full, _ = l["jid"].(string)
		}
	}
	if n, err := s.KillSessions(sctx, full, ""); err != nil || n != 1 {
		t.Fatalf("KillSessions = %d, %v", n, err)
	}
	waitOutput(t, &out, `"event":"connection.connectionEstablished"`, 2)
	interrupt()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d, want 0; stderr %s", code, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("watch did not end after the interrupt")
	}
	o := out.String()
	for _, want := range []string{`"state":"RECONNECTING"`, `"state":"CLOSED"`, `"event":"connection.connectionDisconnected"`} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %s:\n%s", want, o)
		}
	}
	if strings.Contains(o+errOut.String(), pass) {
		t.Error("output shows the password")
	}
}
