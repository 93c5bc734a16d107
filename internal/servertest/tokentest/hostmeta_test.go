package tokentest

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// TestHostMetaDocuments reads each document mod_xmppconn_hostmeta serves
// with the library's parsers.
func TestHostMetaDocuments(t *testing.T) {
	servertest.EachWith(t, servertest.ProsodyModules, testHostMetaDocuments)
}

func testHostMetaDocuments(t *testing.T, srv *servertest.Server) {
	https := "localhost:" + strconv.Itoa(srv.HTTPSPort)
	plain := "localhost:" + strconv.Itoa(srv.HTTPPort)
	want := []transport.Endpoint{
		{URL: "https://" + https + "/http-bind", Kind: transport.KindBOSH},
		{URL: "wss://" + https + "/xmpp-websocket", Kind: transport.KindWebSocket},
		{URL: "http://" + plain + "/http-bind", Kind: transport.KindBOSH},
		{URL: "ws://" + plain + "/xmpp-websocket", Kind: transport.KindWebSocket},
	}
	cases := []struct {
		path, contentType string
		parse             func([]byte) ([]transport.Endpoint, error)
	}{
		{"/.well-known/host-meta", "application/xrd+xml", transport.ParseXRD},
		{"/.well-known/host-meta.json", "application/json", transport.ParseHostMetaJSON},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			req, err := http.NewRequestWithContext(testContext(t), http.MethodGet, "https://127.0.0.1:"+strconv.Itoa(srv.HTTPSPort)+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: HTTP %d, %v", tc.path, resp.StatusCode, err)
			}
			if ct := resp.Header.Get("Content-Type"); ct != tc.contentType {
				t.Errorf("Content-Type %q, want %q", ct, tc.contentType)
			}
			got, err := tc.parse(body)
			if err != nil {
				t.Fatalf("parse %s: %v", body, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("endpoints of %s (-want +got):\n%s", body, diff)
			}
		})
	}
}

// TestDiscoverProsody runs discovery through the public API against the
// server, secure and insecure.
func TestDiscoverProsody(t *testing.T) {
	servertest.EachWith(t, servertest.ProsodyModules, testDiscoverProsody)
}

func testDiscoverProsody(t *testing.T, srv *servertest.Server) {
	domain := "127.0.0.1:" + strconv.Itoa(srv.HTTPSPort)
	https := "localhost:" + strconv.Itoa(srv.HTTPSPort)
	plain := "localhost:" + strconv.Itoa(srv.HTTPPort)
	secure := []transport.Endpoint{
		{URL: "wss://" + https + "/xmpp-websocket", Kind: transport.KindWebSocket},
		{URL: "https://" + https + "/http-bind", Kind: transport.KindBOSH},
	}
	cases := []struct {
		name     string
		insecure bool
		want     []transport.Endpoint
	}{
		{"secure", false, secure},
		{"insecure", true, append(secure[:2:2],
			transport.Endpoint{URL: "ws://" + plain + "/xmpp-websocket", Kind: transport.KindWebSocket},
			transport.Endpoint{URL: "http://" + plain + "/http-bind", Kind: transport.KindBOSH})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := xmppconn.Discover(context.Background(), domain,
				&transport.DiscoverOptions{HTTPClient: srv.HTTPClient(), Insecure: tc.insecure})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("endpoints (-want +got):\n%s", diff)
			}
		})
	}
}
