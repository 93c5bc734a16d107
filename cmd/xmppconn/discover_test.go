package main

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/internal/servertest"
)

// hostMetaServer serves host-meta documents over TLS and returns the
// server's host:port and a --ca-file that trusts it. An empty document is
// answered with 404.
func hostMetaServer(t *testing.T, xrd, jsonDoc string) (domain, caFile string) {
	t.Helper()
	serve := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if body == "" {
				http.NotFound(w, r)
				return
			}
			fmt.Fprint(w, body)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/host-meta", serve(xrd))
	mux.HandleFunc("GET /.well-known/host-meta.json", serve(jsonDoc))
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, block, 0o600); err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(srv.URL, "https://"), caFile
}

const testXRD = `<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>
  <Link rel='urn:xmpp:alt-connections:xbosh' href='http://meet.example.com/http-bind'/>
  <Link rel='urn:xmpp:alt-connections:xbosh' href='https://meet.example.com/http-bind'/>
  <Link rel='urn:xmpp:alt-connections:websocket' href='wss://meet.example.com/xmpp-websocket'/>
  <Link rel='urn:xmpp:alt-connections:websocket' href='ws://meet.example.com/xmpp-websocket'/>
</XRD>`

func TestDiscoverCommand(t *testing.T) {
	domain, ca := hostMetaServer(t, testXRD, "")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"text", []string{"discover", "--ca-file", ca, domain},
			"websocket wss://meet.example.com/xmpp-websocket\nbosh https://meet.example.com/http-bind\n"},
		{"json", []string{"discover", domain, "--json", "--ca-file", ca},
			`{"kind":"websocket","url":"wss://meet.example.com/xmpp-websocket"}` + "\n" +
				`{"kind":"bosh","url":"https://meet.example.com/http-bind"}` + "\n"},
		{"insecure", []string{"discover", "--insecure", "--ca-file", ca, domain},
			"websocket wss://meet.example.com/xmpp-websocket\nbosh https://meet.example.com/http-bind\n" +
				"websocket ws://meet.example.com/xmpp-websocket\nbosh http://meet.example.com/http-bind\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runProbe(t, nil, tc.args...)
			if code != exitOK {
				t.Fatalf("exit status %d, stderr %q", code, stderr)
			}
			if diff := cmp.Diff(tc.want, stdout); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiscoverNone(t *testing.T) {
	cases := []struct {
		name      string
		xrd, json string
		want      []string // in stderr
	}{
		{"neither", "", "", []string{"host-meta not found", "/.well-known/host-meta:", "/.well-known/host-meta.json:"}},
		{"plaintext only", strings.ReplaceAll(strings.ReplaceAll(testXRD, "wss://", "ws://"), "https://", "http://"), "",
			[]string{"only plaintext endpoints", "insecure mode is off"}},
		{"malformed", "<html>", "{", []string{"malformed host-meta"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			domain, ca := hostMetaServer(t, tc.xrd, tc.json)
			code, stdout, stderr := runProbe(t, nil, "discover", "--ca-file", ca, domain)
			if code != exitFailed {
				t.Errorf("exit status %d, want %d", code, exitFailed)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not mention %q", stderr, w)
				}
			}
		})
	}
}

func TestDiscoverUntrusted(t *testing.T) {
	domain, _ := hostMetaServer(t, testXRD, "")
	code, _, stderr := runProbe(t, nil, "discover", domain)
	if code != exitFailed || !strings.Contains(stderr, "certificate") {
		t.Errorf("without --ca-file: exit %d, stderr %q; want 1 and a certificate error", code, stderr)
	}
}

func TestDiscoverUsage(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no domain", []string{"discover"}, "exactly one DOMAIN"},
		{"two domains", []string{"discover", "a.example", "b.example"}, "exactly one DOMAIN"},
		{"URL", []string{"discover", "https://example.com/?token=s3cret-tok"}, "is a URL"},
		{"path", []string{"discover", "example.com/x"}, "invalid domain"},
		{"bad timeout", []string{"discover", "--timeout", "0s", "example.com"}, "--timeout"},
		{"missing ca file", []string{"discover", "--ca-file", "/nonexistent.pem", "example.com"}, "--ca-file"},
		{"unknown flag", []string{"discover", "--frobnicate", "example.com"}, "flag provided but not defined"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runProbe(t, nil, tc.args...)
			if code != exitUsage {
				t.Errorf("exit status %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not mention %q", stderr, tc.want)
			}
			if strings.Contains(stderr, "s3cret-tok") {
				t.Errorf("stderr shows the token: %q", stderr)
			}
		})
	}
	if code, _, stderr := runProbe(t, nil, "discover", "-h"); code != exitOK || !strings.Contains(stderr, "host-meta") {
		t.Errorf("discover -h: exit %d, stderr %q", code, stderr)
	}
}

// TestDiscoverProsody runs the command against each Prosody, of its own,
// that serves host-meta (testdata/prosody/modules/mod_xmppconn_hostmeta.lua),
// including plaintext endpoints.
func TestDiscoverProsody(t *testing.T) {
	servertest.EachKind(t, servertest.ProsodyModules, testDiscoverProsody)
}

func testDiscoverProsody(t *testing.T, k servertest.Kind) {
	srv := servertest.StartTest(t, k, &servertest.Options{Prosody: servertest.ProsodyOptions{
		Modules:     []string{"xmppconn_hostmeta"},
		ExtraGlobal: "xmppconn_hostmeta_plaintext = true",
	}})
	domain := "127.0.0.1:" + strconv.Itoa(srv.HTTPSPort)
	https := "localhost:" + strconv.Itoa(srv.HTTPSPort)
	plain := "localhost:" + strconv.Itoa(srv.HTTPPort)

	code, stdout, stderr := runProbe(t, nil, "discover", "--ca-file", srv.CAFile, domain)
	want := "websocket wss://" + https + "/xmpp-websocket\nbosh https://" + https + "/http-bind\n"
	if code != exitOK || stdout != want {
		t.Fatalf("discover: exit %d\nstdout %q\nwant   %q\nstderr %q\n%s", code, stdout, want, stderr, srv.LogTail(20))
	}

	code, stdout, stderr = runProbe(t, nil, "discover", "--json", "--insecure", "--ca-file", srv.CAFile, domain)
	want = `{"kind":"websocket","url":"wss://` + https + `/xmpp-websocket"}` + "\n" +
		`{"kind":"bosh","url":"https://` + https + `/http-bind"}` + "\n" +
		`{"kind":"websocket","url":"ws://` + plain + `/xmpp-websocket"}` + "\n" +
		`{"kind":"bosh","url":"http://` + plain + `/http-bind"}` + "\n"
	if code != exitOK {
		t.Fatalf("discover --json --insecure: exit %d, stderr %q", code, stderr)
	}
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("discover --json --insecure (-want +got):\n%s", diff)
	}
}
