package xmppconn_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// hostMetaServer serves a host-meta.json listing links (none: 404), and 404
// for the XRD, over HTTPS when secure.
func hostMetaServer(t *testing.T, secure bool, links string) *httptest.Server {
	t.Helper()
	newServer := httptest.NewServer
	if secure {
		newServer = httptest.NewTLSServer
	}
	srv := newServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/host-meta.json" || links == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"links":[`+links+`]}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestConnectDiscovered gives the Connection a domain only: it discovers
// the endpoint (XEP-0156) and connects to the real server there.
func TestConnectDiscovered(t *testing.T) { servertest.Each(t, testConnectDiscovered) }

func testConnectDiscovered(t *testing.T, s *servertest.Server) {
	for _, ep := range []struct {
		name, rel, url string
	}{
		{"websocket", "urn:xmpp:alt-connections:websocket", s.WebSocketURL(false)},
		{"bosh", "urn:xmpp:alt-connections:xbosh", s.BOSHURL(false)},
	} {
		t.Run(ep.name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			hm := hostMetaServer(t, false, `{"rel":"`+ep.rel+`","href":"`+ep.url+`"}`)
			cfg := xmpptest.ServerConfig(t, s, "")
			cfg.Domain = s.AnonDomain
			cfg.Discover = transport.DiscoverOptions{BaseURL: hm.URL, Insecure: true}
			c := xmppconn.New(cfg)
			if err := c.Connect(xmpptest.Context(t)); err != nil {
				t.Fatalf("Connect: %v", err)
			}
			defer func() { _ = c.Disconnect(context.Background()) }()
			if got := c.Endpoint(); got != ep.url {
				t.Errorf("Endpoint() = %s, want %s", got, ep.url)
			}
			if d := c.JID().Domainpart(); d != s.AnonDomain {
				t.Errorf("JID %v, want one on %s", c.JID(), s.AnonDomain)
			}
		})
	}
}

// TestConnectDiscoveryFails: nothing usable in host-meta ends the attempt
// with one ConnectionFailed that says so, and no dial.
func TestConnectDiscoveryFails(t *testing.T) {
	cases := []struct {
		name  string
		links string
		want  error
	}{
		{"no host-meta", "", transport.ErrHostMetaNotFound},
		{"plaintext only", `{"rel":"urn:xmpp:alt-connections:websocket","href":"ws://example.net/ws"}`, transport.ErrPlaintextOnly},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			hm := hostMetaServer(t, true, tc.links)
			t.Cleanup(hm.Client().CloseIdleConnections)
			var dials atomic.Int32
			c := xmppconn.New(xmppconn.Config{
				URL:      "example.net",
				Discover: transport.DiscoverOptions{BaseURL: hm.URL, HTTPClient: hm.Client()},
				Dial: func(context.Context, string, string) (transport.Conn, error) {
					dials.Add(1)
					return nil, errors.New("no dial expected")
				},
			})
			rec := xmpptest.Record(c)
			err := c.Connect(xmpptest.Context(t))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Connect = %v, want %v", err, tc.want)
			}
			if dials.Load() != 0 {
				t.Error("dialled although discovery found nothing")
			}
			xmpptest.Flush(t, c)
			var failed []events.Failed
			for _, e := range rec.All() {
				if f, ok := e.(events.Failed); ok {
					failed = append(failed, f)
				}
			}
			if len(failed) != 1 || !strings.Contains(failed[0].Reason, "discover example.net") {
				t.Errorf("ConnectionFailed events %v, want one naming the discovery", failed)
			}
		})
	}
}
