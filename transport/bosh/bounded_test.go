package bosh

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/transport"
)

// slack is what a bounded wait may overrun its bound by on a loaded
// machine.
const slack = 2 * time.Second

// TestResponseNeverCompletes checks that a response that starts and never
// ends costs one request timeout per try, whatever keeps the connection
// busy meanwhile.
func TestResponseNeverCompletes(t *testing.T) {
	const timeout = 300 * time.Millisecond
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
	}{
		{
			name: "headers then nothing",
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body) // then the server sees the client leave
				w.Header().Set("Content-Type", "text/xml; charset=utf-8")
				w.WriteHeader(http.StatusOK)
				http.NewResponseController(w).Flush()
				<-r.Context().Done()
			},
		},
		{
			// One byte every 50 ms: never idle long enough for a timeout
			// between two reads to fire.
			name: "body dripped",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/xml; charset=utf-8")
				w.Header().Set("Content-Length", "1000000")
				w.WriteHeader(http.StatusOK)
				rc := http.NewResponseController(w)
				t := time.NewTicker(50 * time.Millisecond)
				defer t.Stop()
				for {
					if _, err := w.Write([]byte(" ")); err != nil || rc.Flush() != nil {
						return
					}
					select {
					case <-t.C:
					case <-r.Context().Done():
						return
					}
				}
			},
		},
		{
			name: "body cut short",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "1000")
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write([]byte("<body xmlns='http://jabber.org/protocol/httpbind'"))
				if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
					conn.Close()
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(tt.handler))
			defer srv.Close()
			hc := srv.Client()
			defer hc.CloseIdleConnections()
			const tries = 2
			c, err := Dial(testCtx(t), srv.URL, "example.com", &Options{HTTPClient: hc, Tries: tries, Backoff: []time.Duration{time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(testCtx(t))
			c.timeout = timeout
			start := time.Now()
			_, err = c.Open(testCtx(t), false)
			if d := time.Since(start); d > tries*timeout+slack {
				t.Errorf("Open returned after %v, bound %v per try", d, timeout)
			}
			if err == nil {
				t.Fatal("Open succeeded")
			}
			if transient, known := transport.Transient(err); !transient || !known {
				t.Errorf("transport.Transient(%v) = %v, %v; want transient", err, transient, known)
			}
		})
	}
}

// TestOpenBoundedByContext checks that Open returns by its context's
// deadline while it retries or waits for an answer, whatever the tries,
// the backoff and the request timeout would allow.
func TestOpenBoundedByContext(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"retrying a 503", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}},
		{"no answer", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body) // then the server sees the client leave
			<-r.Context().Done()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			hc := srv.Client()
			defer hc.CloseIdleConnections()
			c, err := Dial(testCtx(t), srv.URL, "example.com", &Options{HTTPClient: hc, Tries: 100, Backoff: []time.Duration{time.Millisecond, 10 * time.Second}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(testCtx(t))
			const bound = 300 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), bound)
			defer cancel()
			start := time.Now()
			_, err = c.Open(ctx, false)
			if d := time.Since(start); d > bound+slack {
				t.Errorf("Open returned after %v, context deadline %v", d, bound)
			}
			if !errors.Is(err, context.DeadlineExceeded) && !errors.As(err, new(*HTTPError)) {
				t.Errorf("Open = %v, want the context's deadline or the last HTTP error", err)
			}
		})
	}
}
