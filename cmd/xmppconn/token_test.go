package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/xmppconn/xmppconn/internal/servertest"
)

// startTokenProsody starts a Prosody of kind k of the test's own with the
// token host (mod_auth_xmppconn_token on token.localhost) and host-meta.
func startTokenProsody(t *testing.T, k servertest.Kind) *servertest.Server {
	t.Helper()
	return servertest.StartTest(t, k, &servertest.Options{Prosody: servertest.ProsodyOptions{
		Modules:       []string{"xmppconn_hostmeta"},
		ExtraSections: "VirtualHost \"token.localhost\"\n\tauthentication = \"xmppconn_token\"\n",
	}})
}

// jwtExpiring returns an unverified-by-the-server JWT expiring at exp.
func jwtExpiring(t *testing.T, exp time.Time) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"room": "*", "exp": exp.Unix()}).SignedString([]byte("unchecked"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestProbeTokenAndDomain runs probe with --token-env and with a domain
// instead of a URL, against each real Prosody (the token host and host-meta
// are Prosody test modules); the token never shows.
func TestProbeTokenAndDomain(t *testing.T) {
	servertest.EachKind(t, servertest.ProsodyModules, testProbeTokenAndDomain)
}

func testProbeTokenAndDomain(t *testing.T, k servertest.Kind) {
	srv := startTokenProsody(t, k)
	valid, expired := jwtExpiring(t, time.Now().Add(time.Hour)), jwtExpiring(t, time.Now().Add(-time.Hour))
	hostPort := "127.0.0.1:" + strconv.Itoa(srv.HTTPSPort)
	cases := []struct {
		name     string
		env      map[string]string
		args     []string
		code     int
		want     []string // substrings of stdout
		tok      string   // must not show
		wantNots []string
	}{
		{"token over websocket", map[string]string{"TOK": valid},
			[]string{"--token-env", "TOK", "--domain", "token.localhost", srv.WebSocketURL(true)},
			exitOK, []string{`"event":"connection.connectionEstablished"`, `@token.localhost/`}, valid, []string{"token_expired"}},
		{"token over bosh", map[string]string{"TOK": valid},
			[]string{"--token-env", "TOK", "--domain", "token.localhost", srv.BOSHURL(true)},
			exitOK, []string{`"event":"connection.connectionEstablished"`}, valid, nil},
		{"expired token", map[string]string{"TOK": expired},
			[]string{"--token-env", "TOK", "--domain", "token.localhost", srv.WebSocketURL(true)},
			exitFailed, []string{`"event":"connection.token_expired"`, `"error":"connection.passwordRequired"`}, expired, []string{"connectionEstablished"}},
		{"domain discovered", nil,
			[]string{"--domain", srv.AnonDomain, hostPort},
			exitOK, []string{`"event":"connection.connectionEstablished"`, "@" + srv.AnonDomain + "/"}, "", nil},
		{"domain with token", map[string]string{"TOK": valid},
			[]string{"--token-env", "TOK", "--domain", "token.localhost", hostPort},
			exitOK, []string{`"event":"connection.connectionEstablished"`}, valid, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"probe", "--json", "-v", "--ca-file", srv.CAFile}, tc.args...)
			code, stdout, stderr := runProbe(t, tc.env, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout does not hold %s:\n%s", w, stdout)
				}
			}
			for _, w := range tc.wantNots {
				if strings.Contains(stdout, w) {
					t.Errorf("stdout holds %s:\n%s", w, stdout)
				}
			}
			if tc.tok != "" && strings.Contains(stdout+stderr, tc.tok) {
				t.Error("the output shows the token")
			}
			if tc.tok != "" && tc.code == exitOK && !strings.Contains(stderr, "token=REDACTED") {
				t.Errorf("the -v log does not show the URL with token=REDACTED:\n%s", stderr)
			}
		})
	}
}
