package bosh

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// post sends one request through rt and reads its answer whole; it reports
// whether the connection was a kept-alive one.
func post(t *testing.T, rt http.RoundTripper, ctx context.Context, u string) (body string, reused bool) {
	t.Helper()
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader("<body/>"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return string(b), reused
}

// remotes is a handler that answers with the client's address.
func remotes(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	_, _ = io.WriteString(w, r.RemoteAddr)
}

// TestRoundTripperKeepsConnections: answers read whole leave their
// connection for the next request, over HTTP and HTTPS; an answer that
// says Connection: close, or whose body is closed unread, does not.
func TestRoundTripperKeepsConnections(t *testing.T) {
	for _, tls := range []bool{false, true} {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/close" {
				w.Header().Set("Connection", "close")
			}
			remotes(w, r)
		}))
		if tls {
			srv.StartTLS()
		} else {
			srv.Start()
		}
		defer srv.Close()
		rt := newRoundTripper(srv.Client().Transport.(*http.Transport))
		defer rt.CloseIdleConnections()
		ctx := testCtx(t)

		first, reused := post(t, rt, ctx, srv.URL)
		if reused {
			t.Error("the first request reported a kept-alive connection")
		}
		second, reused := post(t, rt, ctx, srv.URL)
		if !reused || second != first {
			t.Errorf("tls %v: the second request went from %s (reused %v), want %s again", tls, second, reused, first)
		}
		post(t, rt, ctx, srv.URL+"/close")
		if third, _ := post(t, rt, ctx, srv.URL); third == first {
			t.Errorf("tls %v: the connection answered with Connection: close was kept", tls)
		}

		// A body closed before its end closes its connection.
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader("x"))
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if _, reused := post(t, rt, ctx, srv.URL); reused {
			t.Errorf("tls %v: a connection whose answer was not read whole was kept", tls)
		}
	}
}

// TestRoundTripperCancel: a request whose context ends while the server
// holds it returns the context's error, and its connection is closed.
func TestRoundTripperCancel(t *testing.T) {
	held := make(chan struct{})
	gone := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then net/http watches the connection
		close(held)
		<-r.Context().Done() // the client closed the connection
		close(gone)
	}))
	defer srv.Close()
	rt := newRoundTripper(srv.Client().Transport.(*http.Transport))
	ctx, cancel := context.WithCancel(testCtx(t))
	go func() {
		<-held
		cancel()
	}()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader("x"))
	if _, err := rt.RoundTrip(req); !errors.Is(err, context.Canceled) {
		t.Fatalf("RoundTrip = %v, want context.Canceled", err)
	}
	<-gone
}

// TestRoundTripperProxy: a request the proxy function sends to a proxy
// goes through net/http's Transport, to the proxy.
func TestRoundTripperProxy(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.String())
		mu.Unlock()
		_, _ = io.WriteString(w, "proxied")
	}))
	defer proxy.Close()
	pu, _ := url.Parse(proxy.URL)
	rt := newRoundTripper(&http.Transport{Proxy: http.ProxyURL(pu)})
	defer rt.CloseIdleConnections()
	if body, _ := post(t, rt, testCtx(t), "http://bosh.example:5280/http-bind"); body != "proxied" {
		t.Errorf("body %q, want the proxy's", body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != "http://bosh.example:5280/http-bind" {
		t.Errorf("the proxy saw %v", seen)
	}
}

// TestRoundTripperIdleBound: at most maxIdlePerHost connections wait per
// server; the oldest goes first.
func TestRoundTripperIdleBound(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(remotes))
	defer srv.Close()
	rt := newRoundTripper(srv.Client().Transport.(*http.Transport))
	defer rt.CloseIdleConnections()
	ctx := testCtx(t)
	var conns []*persistConn
	for range maxIdlePerHost + 1 {
		pc, err := rt.connect(ctx, "http", "127.0.0.1", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		pc.key = "k"
		conns = append(conns, pc)
	}
	for _, pc := range conns {
		rt.put(pc)
	}
	rt.mu.Lock()
	n := len(rt.idle["k"])
	rt.mu.Unlock()
	if n != maxIdlePerHost {
		t.Errorf("%d idle connections kept, want %d", n, maxIdlePerHost)
	}
	if got := rt.take("k"); got != conns[1] {
		t.Error("take did not return the oldest connection kept")
	}
}

// TestRoundTripperScheme: a URL that is neither http nor https is refused.
func TestRoundTripperScheme(t *testing.T) {
	rt := newRoundTripper(&http.Transport{})
	req, _ := http.NewRequest(http.MethodPost, "ftp://example.com/", strings.NewReader("x"))
	if _, err := rt.RoundTrip(req); err == nil || !strings.Contains(err.Error(), "unsupported protocol scheme") {
		t.Errorf("RoundTrip = %v, want an unsupported scheme error", err)
	}
}

// TestRoundTripperHeadBound: an answer whose head does not end fails the
// request once it passes the bound (the transport's MaxResponseHeaderBytes,
// else defaultMaxHead), and the client stops reading it: the server's
// writes fail long before it has sent what it meant to.
func TestRoundTripperHeadBound(t *testing.T) {
	for _, max := range []int64{0, 16 << 10} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		const flood = 256 << 20
		sent := make(chan int64, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				sent <- -1
				return
			}
			defer c.Close()
			_, _ = c.Read(make([]byte, 4096)) // the request
			n, _ := c.Write([]byte("HTTP/1.1 200 OK\r\nX-Long: "))
			total := int64(n)
			chunk := []byte(strings.Repeat("a", 64<<10))
			for total < flood {
				n, err := c.Write(chunk)
				total += int64(n)
				if err != nil {
					break
				}
			}
			sent <- total
		}()
		rt := newRoundTripper(&http.Transport{MaxResponseHeaderBytes: max})
		req, _ := http.NewRequestWithContext(testCtx(t), http.MethodPost, "http://"+ln.Addr().String()+"/http-bind", strings.NewReader("<body/>"))
		_, err = rt.RoundTrip(req)
		if err == nil || !strings.Contains(err.Error(), "head of the answer is larger than") {
			t.Errorf("MaxResponseHeaderBytes %d: RoundTrip: %v, want the head bound's error", max, err)
		}
		if n := <-sent; n >= flood {
			t.Errorf("MaxResponseHeaderBytes %d: the client read all %d bytes of an endless head", max, n)
		}
		ln.Close()
	}
}
