package transport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Documents served by the test servers.
const (
	xrdSecure = xrdHead + `
  <Link rel="urn:xmpp:alt-connections:xbosh" href="https://xmpp.example.com/http-bind"/>
  <Link rel="urn:xmpp:alt-connections:websocket" href="wss://xmpp.example.com/xmpp-websocket"/>
</XRD>`
	jsonSecure = `{"links":[
  {"rel":"urn:xmpp:alt-connections:websocket","href":"wss://xmpp.example.com/xmpp-websocket"},
  {"rel":"urn:xmpp:alt-connections:websocket","href":"wss://backup.example.com/xmpp-websocket"}]}`
	xrdPlaintext = xrdHead + `
  <Link rel="urn:xmpp:alt-connections:xbosh" href="http://xmpp.example.com/http-bind"/>
  <Link rel="urn:xmpp:alt-connections:websocket" href="ws://xmpp.example.com/xmpp-websocket"/>
</XRD>`
	jsonPlaintext = `{"links":[{"rel":"urn:xmpp:alt-connections:websocket","href":"ws://xmpp.example.com/xmpp-websocket"}]}`
	xrdMixed      = xrdHead + `
  <Link rel="urn:xmpp:alt-connections:xbosh" href="http://xmpp.example.com/http-bind"/>
  <Link rel="urn:xmpp:alt-connections:websocket" href="ws://xmpp.example.com/xmpp-websocket"/>
  <Link rel="urn:xmpp:alt-connections:xbosh" href="https://xmpp.example.com/http-bind"/>
  <Link rel="urn:xmpp:alt-connections:websocket" href="wss://xmpp.example.com/xmpp-websocket"/>
</XRD>`
)

var (
	wssMain   = Endpoint{"wss://xmpp.example.com/xmpp-websocket", KindWebSocket}
	wssBackup = Endpoint{"wss://backup.example.com/xmpp-websocket", KindWebSocket}
	httpsBOSH = Endpoint{"https://xmpp.example.com/http-bind", KindBOSH}
	wsMain    = Endpoint{"ws://xmpp.example.com/xmpp-websocket", KindWebSocket}
	httpBOSH  = Endpoint{"http://xmpp.example.com/http-bind", KindBOSH}
)

// serve answers with a fixed body, or 404 for an empty one.
func serve(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if body == "" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, body)
	}
}

// hang answers only when the client gives up.
func hang(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// hostMetaServer starts a TLS server with the two documents' handlers and
// returns options that point Discover at it.
func hostMetaServer(t *testing.T, xrd, jsonDoc http.HandlerFunc) (*httptest.Server, *DiscoverOptions) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+hostMetaPath, xrd)
	mux.HandleFunc("GET "+hostMetaJSONPath, jsonDoc)
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return srv, &DiscoverOptions{HTTPClient: srv.Client(), BaseURL: srv.URL, Timeout: 5 * time.Second}
}

func TestDiscover(t *testing.T) {
	cases := []struct {
		name      string
		xrd, json http.HandlerFunc
		insecure  bool
		want      []Endpoint
	}{
		{"XRD only", serve(xrdSecure), serve(""), false, []Endpoint{wssMain, httpsBOSH}},
		{"JSON only", serve(""), serve(jsonSecure), false, []Endpoint{wssMain, wssBackup}},
		{"both, merged without duplicates", serve(xrdSecure), serve(jsonSecure), false, []Endpoint{wssMain, wssBackup, httpsBOSH}},
		{"malformed XRD, good JSON", serve("<html>oops"), serve(jsonSecure), false, []Endpoint{wssMain, wssBackup}},
		{"XRD fails with 500, good JSON", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}, serve(jsonSecure), false, []Endpoint{wssMain, wssBackup}},
		{"plaintext dropped", serve(xrdMixed), serve(""), false, []Endpoint{wssMain, httpsBOSH}},
		{"plaintext last when insecure", serve(xrdMixed), serve(""), true, []Endpoint{wssMain, httpsBOSH, wsMain, httpBOSH}},
		{"plaintext only, insecure", serve(xrdPlaintext), serve(jsonPlaintext), true, []Endpoint{wsMain, httpBOSH}},
		{"JSON hangs, XRD answers", serve(xrdSecure), hang, false, []Endpoint{wssMain, httpsBOSH}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, opts := hostMetaServer(t, tc.xrd, tc.json)
			opts.Insecure = tc.insecure
			if tc.name == "JSON hangs, XRD answers" {
				opts.Timeout = 200 * time.Millisecond
			}
			got, err := Discover(context.Background(), "example.com", opts)
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("endpoints (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiscoverFails(t *testing.T) {
	big := xrdHead + strings.Repeat("<Link rel='x' href='https://h/'/>", 100) + "</XRD>"
	chunked := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			for _, part := range strings.SplitAfter(body, ">") {
				fmt.Fprint(w, part)
				w.(http.Flusher).Flush()
			}
		}
	}
	cases := []struct {
		name       string
		xrd, json  http.HandlerFunc
		opts       func(*DiscoverOptions)
		want       []error // each must match
		wantStatus [2]int
	}{
		{"neither (404)", serve(""), serve(""), nil, []error{ErrHostMetaNotFound}, [2]int{404, 404}},
		{"both malformed", serve("<XRD"), serve(`{"links":`), nil, []error{ErrMalformedHostMeta}, [2]int{200, 200}},
		{"oversized by Content-Length", serve(big), serve(""), func(o *DiscoverOptions) { o.MaxBody = 1024 },
			[]error{ErrHostMetaTooLarge, ErrHostMetaNotFound}, [2]int{200, 404}},
		{"oversized, chunked", chunked(big), chunked(big), func(o *DiscoverOptions) { o.MaxBody = 1024 },
			[]error{ErrHostMetaTooLarge}, [2]int{200, 200}},
		{"plaintext only", serve(xrdPlaintext), serve(jsonPlaintext), nil, []error{ErrPlaintextOnly}, [2]int{200, 200}},
		{"no endpoints", serve(xrdHead + "</XRD>"), serve(`{"links":[]}`), nil, []error{ErrNoEndpoint}, [2]int{200, 200}},
		{"server error", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "x", http.StatusBadGateway) }, serve(""), nil,
			[]error{ErrHostMetaStatus, ErrHostMetaNotFound}, [2]int{502, 404}},
		{"timeout", hang, hang, func(o *DiscoverOptions) { o.Timeout = 50 * time.Millisecond },
			[]error{context.DeadlineExceeded}, [2]int{0, 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, opts := hostMetaServer(t, tc.xrd, tc.json)
			if tc.opts != nil {
				tc.opts(opts)
			}
			got, err := Discover(context.Background(), "example.com", opts)
			var de *DiscoveryError
			if !errors.As(err, &de) {
				t.Fatalf("Discover = %v, %v; want a *DiscoveryError", got, err)
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("error %q does not match %v", err, w)
				}
			}
			if de.Domain != "example.com" || len(de.Tried) != 2 {
				t.Fatalf("DiscoveryError = %+v", de)
			}
			for i, path := range []string{hostMetaPath, hostMetaJSONPath} {
				a := de.Tried[i]
				if a.URL != srv.URL+path || a.HTTPStatus != tc.wantStatus[i] || a.Err == nil {
					t.Errorf("attempt %d = %+v, want URL %s, status %d and a reason", i, a, srv.URL+path, tc.wantStatus[i])
				}
				if !strings.Contains(err.Error(), a.URL) {
					t.Errorf("error %q does not name %s", err, a.URL)
				}
			}
		})
	}
}

// TestDiscoverConcurrent proves that both documents are requested at the
// same time: each handler waits for the other request to arrive.
func TestDiscoverConcurrent(t *testing.T) {
	var arrived sync.WaitGroup
	arrived.Add(2)
	both := make(chan struct{})
	go func() { arrived.Wait(); close(both) }()
	wait := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			arrived.Done()
			select {
			case <-both:
				fmt.Fprint(w, body)
			case <-r.Context().Done():
			}
		}
	}
	_, opts := hostMetaServer(t, wait(xrdSecure), wait(jsonSecure))
	got, err := Discover(context.Background(), "example.com", opts)
	if err != nil {
		t.Fatalf("Discover: %v (were the requests sequential?)", err)
	}
	if len(got) != 3 {
		t.Errorf("got %v, want the endpoints of both documents", got)
	}
}

func TestDiscoverRequest(t *testing.T) {
	var mu sync.Mutex
	accept := map[string]string{}
	record := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			accept[r.URL.Path] = r.Header.Get("Accept")
			mu.Unlock()
			fmt.Fprint(w, body)
		}
	}
	srv, opts := hostMetaServer(t, record(xrdSecure), record(jsonSecure))
	// A host:port domain is fetched from https://host:port.
	opts.BaseURL = ""
	domain := strings.TrimPrefix(srv.URL, "https://")
	if _, err := Discover(context.Background(), domain, opts); err != nil {
		t.Fatalf("Discover(%q): %v", domain, err)
	}
	want := map[string]string{hostMetaPath: "application/xrd+xml", hostMetaJSONPath: "application/json"}
	if diff := cmp.Diff(want, accept); diff != "" {
		t.Errorf("Accept headers (-want +got):\n%s", diff)
	}
}

func TestDiscoverRedirects(t *testing.T) {
	cases := []struct {
		name    string
		to      func(host, port string) string // the Location of the host-meta answer
		wantErr string                         // empty: followed
	}{
		{"same host, https", func(h, p string) string { return "https://" + h + ":" + p + "/moved/host-meta" }, ""},
		{"same host, relative", func(h, p string) string { return "/moved/host-meta" }, ""},
		{"another host", func(h, p string) string { return "https://localhost:" + p + "/moved/host-meta" }, "another host"},
		{"to plaintext", func(h, p string) string { return "http://" + h + ":" + p + "/moved/host-meta" }, "plaintext"},
		{"too many hops", func(h, p string) string { return "/loop" }, "more than 3 redirects"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			redirect := func(w http.ResponseWriter, r *http.Request) {
				host, port, _ := strings.Cut(r.Host, ":")
				http.Redirect(w, r, tc.to(host, port), http.StatusFound)
			}
			mux := http.NewServeMux()
			mux.HandleFunc("GET "+hostMetaPath, redirect)
			mux.HandleFunc("GET /loop", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/loop", http.StatusFound)
			})
			mux.HandleFunc("GET /moved/host-meta", serve(xrdSecure))
			mux.HandleFunc("GET "+hostMetaJSONPath, serve(""))
			srv := httptest.NewTLSServer(mux)
			defer srv.Close()
			got, err := Discover(context.Background(), "example.com",
				&DiscoverOptions{HTTPClient: srv.Client(), BaseURL: srv.URL, Timeout: 5 * time.Second})
			if tc.wantErr == "" {
				if err != nil || len(got) != 2 {
					t.Fatalf("Discover = %v, %v; want the redirect followed", got, err)
				}
				return
			}
			if !errors.Is(err, ErrHostMetaRedirect) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Discover = %v, %v; want ErrHostMetaRedirect naming %q", got, err, tc.wantErr)
			}
		})
	}
}

func TestDiscoverInvalid(t *testing.T) {
	cases := []struct {
		name   string
		domain string
		opts   DiscoverOptions
	}{
		{"empty domain", "", DiscoverOptions{}},
		{"URL as domain", "https://example.com", DiscoverOptions{}},
		{"path", "example.com/x", DiscoverOptions{}},
		{"user info", "user@example.com", DiscoverOptions{}},
		{"space", "exa mple.com", DiscoverOptions{}},
		{"bad port", "example.com:99999", DiscoverOptions{}},
		{"port only", ":443", DiscoverOptions{}},
		{"plaintext BaseURL", "example.com", DiscoverOptions{BaseURL: "http://127.0.0.1:1"}},
		{"BaseURL of another scheme", "example.com", DiscoverOptions{BaseURL: "ftp://127.0.0.1:1"}},
		{"BaseURL with a query", "example.com", DiscoverOptions{BaseURL: "https://127.0.0.1:1/?q=1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Discover(context.Background(), tc.domain, &tc.opts)
			if !errors.Is(err, ErrInvalidDomain) {
				t.Fatalf("Discover(%q) = %v, %v; want ErrInvalidDomain", tc.domain, got, err)
			}
		})
	}
}

func TestDiscoverCancelled(t *testing.T) {
	_, opts := hostMetaServer(t, hang, hang)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Discover(ctx, "example.com", opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Discover with a cancelled context: %v", err)
	}
}

func TestDiscoverInsecureBaseURL(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+hostMetaPath, serve(xrdMixed))
	mux.HandleFunc("GET "+hostMetaJSONPath, serve(""))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	got, err := Discover(context.Background(), "example.com", &DiscoverOptions{BaseURL: srv.URL, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Endpoint{wssMain, httpsBOSH, wsMain, httpBOSH}, got); diff != "" {
		t.Errorf("endpoints (-want +got):\n%s", diff)
	}
	http.DefaultClient.CloseIdleConnections()
}
