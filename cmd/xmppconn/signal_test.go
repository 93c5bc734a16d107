package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
)

// buildCLI builds the xmppconn binary into dir for tests that need a real
// process (signals, exit status).
func buildCLI(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "xmppconn")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestWatchSIGTERM: SIGTERM, how systemd and Kubernetes stop a service,
// closes watch as cleanly as Ctrl-C: CLOSED, connectionDisconnected, exit 0,
// on every server.
func TestWatchSIGTERM(t *testing.T) {
	dir, bin := t.TempDir(), ""
	servertest.Each(t, func(t *testing.T, s *servertest.Server) {
		if bin == "" { // once, for the servers that run
			bin = buildCLI(t, dir)
		}
		testWatchSIGTERM(t, s, bin)
	})
}

func testWatchSIGTERM(t *testing.T, s *servertest.Server, bin string) {
	user, pass := s.NewUser(t)
	var out xmpptest.Buffer
	var errOut bytes.Buffer
	cmd := exec.Command(bin, "watch", "--json", "--jid", user+"@"+s.Domain, "--password-env", "PW", "--allow-plain", s.WebSocketURL(false))
	cmd.Env = append(os.Environ(), "PW="+pass)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitOutput(t, &out, `"event":"connection.connectionEstablished"`, 1)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("watch after SIGTERM: %v (exit %d); stderr %s", err, cmd.ProcessState.ExitCode(), errOut.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("watch did not end after SIGTERM")
	}
	o := out.String()
	for _, want := range []string{`"state":"CLOSED"`, `"event":"connection.connectionDisconnected"`} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %s:\n%s", want, o)
		}
	}
	if strings.Contains(o, pass) || strings.Contains(errOut.String(), pass) {
		t.Error("the password shows in the output")
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		var out, errOut bytes.Buffer
		if code := run(t.Context(), []string{arg}, &out, &errOut, func(string) string { return "" }); code != exitOK {
			t.Fatalf("%s: exit %d, stderr %s", arg, code, errOut.String())
		}
		if got := out.String(); !strings.HasPrefix(got, "xmppconn ") || !strings.Contains(got, "go1.") {
			t.Errorf("%s printed %q, want xmppconn VERSION ... goVERSION", arg, got)
		}
	}
}

// TestWatchRetriesWithReasons: watch keeps trying a server that is not
// there, printing each attempt's reason and the wait before the next, until
// --attempts ends it.
func TestWatchRetriesWithReasons(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"watch", "--json", "--attempts", "3", "--timeout", "2s", "ws://127.0.0.1:1/xmpp-websocket"},
		&out, &errOut, func(string) string { return "" })
	if code != exitFailed {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitFailed, errOut.String())
	}
	var failed, withReason int
	for _, l := range jsonLines(t, out.String()) {
		if l["event"] == "connection.stateChanged" && l["state"] == "FAILED" {
			failed++
			if r, _ := l["reason"].(string); r != "" && l["error"] != nil && l["attempt"] != nil {
				withReason++
			}
		}
	}
	if failed != 3 || withReason != 3 {
		t.Errorf("%d FAILED lines, %d with error, reason and attempt; want 3 and 3:\n%s", failed, withReason, out.String())
	}
}
