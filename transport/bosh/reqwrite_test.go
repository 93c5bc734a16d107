package bosh

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestRequestBytes checks that requestBytes writes every request byte for
// byte as Request.Write does, by hand or not.
func TestRequestBytes(t *testing.T) {
	body := "<body rid='1' sid='s' xmlns='http://jabber.org/protocol/httpbind'/>"
	tests := []struct {
		name   string
		url    string
		edit   func(*http.Request)
		byHand bool
	}{
		{name: "as the Conn makes them", url: "http://localhost:5280/http-bind", byHand: true},
		{name: "query and port", url: "https://xmpp.example.com:5281/http-bind?room=a%20b&token=t", byHand: true},
		{name: "headers of the application", url: "http://localhost/http-bind", byHand: true, edit: func(r *http.Request) {
			r.Header["X-Trace"] = []string{"a", "b c"}
			r.Header.Set("Authorization", "Bearer x")
			r.Header.Set("User-Agent", "bot/1.0")
		}},
		{name: "an empty User-Agent", url: "http://localhost/http-bind", byHand: true, edit: func(r *http.Request) {
			r.Header.Set("User-Agent", "")
		}},
		{name: "a header value with a newline", url: "http://localhost/http-bind", edit: func(r *http.Request) {
			r.Header.Set("X-Bad", "a\r\nInjected: yes")
		}},
		{name: "a header value with spaces around", url: "http://localhost/http-bind", edit: func(r *http.Request) {
			r.Header.Set("X-Pad", "  a  ")
		}},
		{name: "a header name with an underscore", url: "http://localhost/http-bind", edit: func(r *http.Request) {
			r.Header["X_Odd"] = []string{"a"}
		}},
		{name: "a Host header", url: "http://localhost/http-bind", byHand: true, edit: func(r *http.Request) {
			r.Header.Set("Host", "elsewhere")
		}},
		{name: "an IPv6 host", url: "http://[::1]:5280/http-bind"},
		{name: "an IDN host", url: "http://bücher.example/http-bind"},
		{name: "Request.Host set", url: "http://localhost/http-bind", byHand: true, edit: func(r *http.Request) { r.Host = "other.example" }},
		{name: "Request.Host empty", url: "http://localhost/http-bind", byHand: true, edit: func(r *http.Request) { r.Host = "" }},
		{name: "Close", url: "http://localhost/http-bind", edit: func(r *http.Request) { r.Close = true }},
		{name: "chunked", url: "http://localhost/http-bind", edit: func(r *http.Request) { r.ContentLength = -1 }},
		{name: "GET", url: "http://localhost/http-bind", edit: func(r *http.Request) { r.Method = http.MethodGet }},
	}
	build := func(tt int) *http.Request {
		r, err := http.NewRequestWithContext(context.Background(), http.MethodPost, tests[tt].url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Content-Type", "text/xml; charset=utf-8")
		if tests[tt].edit != nil {
			tests[tt].edit(r)
		}
		return r
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := plainRequest(build(i)); got != tt.byHand {
				t.Errorf("written by hand: %v, want %v", got, tt.byHand)
			}
			var want bytes.Buffer
			wantErr := build(i).Write(&want)
			got, err := requestBytes(build(i))
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("error %v, Request.Write's %v", err, wantErr)
			}
			if string(got) != want.String() {
				t.Errorf("wrote\n%q\nRequest.Write writes\n%q", got, want.String())
			}
		})
	}
}

// TestRequestBytesBodyLength checks that a body that is not as long as
// ContentLength says is an error, as with Request.Write.
func TestRequestBytesBodyLength(t *testing.T) {
	for _, n := range []int64{3, 5} {
		r, err := http.NewRequest(http.MethodPost, "http://localhost/http-bind", io.NopCloser(strings.NewReader("four")))
		if err != nil {
			t.Fatal(err)
		}
		r.ContentLength = n
		if _, err := requestBytes(r); err == nil {
			t.Errorf("ContentLength %d for a body of 4 bytes: no error", n)
		}
	}
}
