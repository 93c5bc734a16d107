package websocket

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// rawServer accepts one connection, reads the request head and runs answer
// on the connection; it returns the server's address.
func rawServer(t *testing.T, answer func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		answer(c)
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String()
}

func upgradeRequest(t *testing.T, ctx context.Context, addr string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/xmpp-websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	return req
}

// TestDirectUpgrade: the bytes a server sends right after its 101, in the
// same segment, are not lost, and the body writes to the connection.
func TestDirectUpgrade(t *testing.T) {
	got := make(chan string, 1)
	addr := rawServer(t, func(c net.Conn) {
		_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nfirst frame")
		b := make([]byte, 5)
		_, _ = io.ReadFull(c, b)
		got <- string(b)
	})
	tr := newDirectTransport(nil, failingTransport{t})
	resp, err := tr.RoundTrip(upgradeRequest(t, context.Background(), addr))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	rwc, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		t.Fatalf("body %T is not an io.ReadWriteCloser", resp.Body)
	}
	defer rwc.Close()
	b := make([]byte, len("first frame"))
	if _, err := io.ReadFull(rwc, b); err != nil || string(b) != "first frame" {
		t.Errorf("read %q, %v", b, err)
	}
	if _, err := io.WriteString(rwc, "hello"); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "hello" {
		t.Errorf("server got %q", s)
	}
}

// TestDirectRefused: another answer comes back with its body; closing the
// body closes the connection.
func TestDirectRefused(t *testing.T) {
	eof := make(chan error, 1)
	addr := rawServer(t, func(c net.Conn) {
		_, _ = io.WriteString(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno")
		_, err := c.Read(make([]byte, 1))
		eof <- err
	})
	resp, err := newDirectTransport(nil, failingTransport{t}).RoundTrip(upgradeRequest(t, context.Background(), addr))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusForbidden || string(b) != "no" {
		t.Errorf("answer %d %q", resp.StatusCode, b)
	}
	resp.Body.Close()
	if err := <-eof; !errors.Is(err, io.EOF) {
		t.Errorf("server read %v after the body was closed, want EOF", err)
	}
}

// TestDirectContext: a server that never answers is left when ctx ends.
func TestDirectContext(t *testing.T) {
	release := make(chan struct{})
	addr := rawServer(t, func(net.Conn) { <-release })
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := newDirectTransport(nil, failingTransport{t}).RoundTrip(upgradeRequest(t, ctx, addr))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
}

// TestDirectFallback: requests through a proxy, and requests that are not
// upgrades, go to the fallback transport.
func TestDirectFallback(t *testing.T) {
	fb := &countingTransport{}
	tr := newDirectTransport(nil, fb)
	tr.proxy = func(*http.Request) (*url.URL, error) { return url.Parse("http://proxy.example:3128") }
	if _, err := tr.RoundTrip(upgradeRequest(t, context.Background(), "127.0.0.1:1")); !errors.Is(err, errCounted) {
		t.Errorf("through a proxy: %v", err)
	}
	tr.proxy = nil
	req := upgradeRequest(t, context.Background(), "127.0.0.1:1")
	req.Header.Del("Upgrade")
	if _, err := tr.RoundTrip(req); !errors.Is(err, errCounted) {
		t.Errorf("not an upgrade: %v", err)
	}
	if fb.n != 2 {
		t.Errorf("fallback used %d times, want 2", fb.n)
	}
}

var errCounted = errors.New("counted")

type countingTransport struct{ n int }

func (c *countingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	c.n++
	return nil, errCounted
}

// failingTransport fails the test when the fallback is used.
type failingTransport struct{ t *testing.T }

func (f failingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	f.t.Errorf("fallback used for %s", strings.TrimSpace(req.URL.String()))
	return nil, errCounted
}
