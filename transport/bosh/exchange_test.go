package bosh

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/transport"
)

const (
	// In the form xmlframe serializes, so that what the fake received
	// compares equal to what was written.
	msg1   = "<message xmlns='jabber:client' to='a@example.com'><body>one</body></message>"
	msg2   = "<message xmlns='jabber:client' to='a@example.com'><body>two</body></message>"
	reply1 = "<message xmlns='jabber:client' from='a@example.com'><body>1</body></message>"
	reply2 = "<message xmlns='jabber:client' from='a@example.com'><body>2</body></message>"
)

// carries reports whether a request holds an element containing s.
func carries(r *fakeRequest, s string) bool {
	for _, c := range r.Children {
		if strings.Contains(c, s) {
			return true
		}
	}
	return false
}

func TestRetransmit(t *testing.T) {
	tests := []struct {
		name    string
		fault   fault
		holdFor time.Duration
		timeout time.Duration
	}{
		{name: "http 500", fault: fault{Kind: faultStatus, Status: http.StatusInternalServerError}},
		{name: "http 503", fault: fault{Kind: faultStatus, Status: http.StatusServiceUnavailable}},
		{name: "recoverable binding error", fault: fault{Kind: faultRaw, Body: "<body type='error' xmlns='http://jabber.org/protocol/httpbind'/>"}},
		{name: "dropped response", fault: fault{Kind: faultDrop}},
		{name: "lost request, timeout", fault: fault{Kind: faultLose}, holdFor: 20 * time.Millisecond, timeout: 300 * time.Millisecond},
		{name: "lost response, timeout", fault: fault{Kind: faultSwallow}, holdFor: 20 * time.Millisecond, timeout: 300 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t, fakeConfig{
				HoldFor: tt.holdFor,
				Fault: func(r *fakeRequest) fault {
					if r.Attempt == 1 && carries(r, "<body>one</body>") {
						return tt.fault
					}
					return fault{}
				},
			}, false)
			c := dialFake(t, f, nil)
			c.timeout = tt.timeout
			if _, err := c.Open(testCtx(t), false); err != nil {
				t.Fatal(err)
			}
			mustRead(t, c)

			mustWrite(t, c, msg1)
			f.awaitReceived(1)
			f.Push(reply1)
			if got := mustRead(t, c); got != reply1 {
				t.Fatalf("read %s, want %s", got, reply1)
			}
			// The session goes on.
			mustWrite(t, c, msg2)
			f.awaitReceived(2)
			f.Push(reply2)
			if got := mustRead(t, c); got != reply2 {
				t.Fatalf("read %s, want %s", got, reply2)
			}

			if diff := cmp.Diff([]string{msg1, msg2}, f.Received()); diff != "" {
				t.Errorf("server received (-want +got):\n%s", diff)
			}
			var tries []*fakeRequest
			for _, r := range f.Requests() {
				if carries(r, "<body>one</body>") {
					tries = append(tries, r)
				}
			}
			if len(tries) < 2 {
				t.Fatalf("the failed request was sent %d times", len(tries))
			}
			for _, r := range tries[1:] {
				if r.RID != tries[0].RID || !bytes.Equal(r.Raw, tries[0].Raw) {
					t.Errorf("retransmission differs:\n%s\n%s", tries[0].Raw, r.Raw)
				}
			}
		})
	}
}

// TestRetransmitWithinBuffer: a connection manager that takes no acks need
// remember only 'requests' responses (XEP-0124 §14.3). While the answer to
// the long-poll is lost and the poll waits to be sent again, the client
// writes twice and the server answers both: the second write must wait for
// the retransmission, or its answer pushes the lost one out of the server's
// memory and the session ends with item-not-found. ejabberd 23.01 keeps
// 'requests' answers and, asked for a forgotten one, answers nothing with
// its elements: a message lost through a cut connection.
func TestRetransmitWithinBuffer(t *testing.T) {
	var creation uint64
	f := newFakeServer(t, fakeConfig{
		Buffer: 2, // = requests
		Fault: func(r *fakeRequest) fault {
			if r.Attrs["sid"] == "" {
				creation = r.RID
			}
			switch {
			case r.RID != creation+1:
			case r.Attempt == 1:
				return fault{Kind: faultDrop} // the first long-poll's answer
			case r.Attempt == 2:
				// net/http may send it again at once on a new connection:
				// this try fails too, so the next comes after the backoff.
				return fault{Kind: faultStatus, Status: http.StatusServiceUnavailable}
			}
			return fault{}
		},
	}, false)
	c := openFake(t, f, func(o *Options) { o.Backoff = []time.Duration{100 * time.Millisecond} })
	mustRead(t, c) // the features
	f.awaitHeld(1)

	f.Push(reply1) // lost with its connection; the poll is sent again later
	mustWrite(t, c, msg1)
	f.awaitReceived(1)
	f.Push(reply2)
	mustWrite(t, c, msg2)
	reply3 := strings.Replace(reply2, "<body>2</body>", "<body>3</body>", 1)
	f.Push(reply3)

	for _, want := range []string{reply1, reply2, reply3} {
		if got := mustRead(t, c); got != want {
			t.Fatalf("read %s, want %s", got, want)
		}
	}
	f.awaitReceived(2)
	if diff := cmp.Diff([]string{msg1, msg2}, f.Received()); diff != "" {
		t.Errorf("server received (-want +got):\n%s", diff)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.forgotten > 0 {
		t.Errorf("%d retransmissions came after the server forgot their answer", f.forgotten)
	}
	// No request beyond the window went out before the lost answer came.
	lost := creation + 1
	resent := false
	for _, r := range f.requests {
		switch {
		case r.RID == lost && r.Attempt > 1:
			resent = true
		case r.RID >= lost+2 && !resent:
			t.Errorf("rid %d (attempt %d) was sent before rid %d came back", r.RID, r.Attempt, lost)
		}
	}
	if !resent {
		t.Errorf("the lost poll was never sent again")
	}
}

func TestRepeatedFailures(t *testing.T) {
	t.Run("http 500", func(t *testing.T) {
		f := newFakeServer(t, fakeConfig{Fault: func(r *fakeRequest) fault {
			if carries(r, "<body>one</body>") {
				return fault{Kind: faultStatus, Status: http.StatusInternalServerError}
			}
			return fault{}
		}}, false)
		c := openFake(t, f, func(o *Options) { o.Tries = 3 })
		mustRead(t, c)
		mustWrite(t, c, msg1)
		err := readErr(t, c)
		var he *HTTPError
		if !asError(err, &he) || he.Status != http.StatusInternalServerError || !he.Retried {
			t.Fatalf("ReadElement error = %v, want retried HTTP 500", err)
		}
		n := 0
		for _, r := range f.Requests() {
			if carries(r, "<body>one</body>") {
				n++
			}
		}
		if n != 3 {
			t.Errorf("request sent %d times, want 3", n)
		}
		if s := c.Status(); s.HTTPStatus != http.StatusInternalServerError {
			t.Errorf("Status().HTTPStatus = %d", s.HTTPStatus)
		}
		if err := c.WriteElement(testCtx(t), []byte(msg2)); err == nil {
			t.Error("WriteElement after the session was lost succeeded")
		}
	})
	t.Run("timeouts", func(t *testing.T) {
		f := newFakeServer(t, fakeConfig{HoldFor: 20 * time.Millisecond, Fault: func(r *fakeRequest) fault {
			if carries(r, "<body>one</body>") {
				return fault{Kind: faultLose}
			}
			return fault{}
		}}, false)
		c := dialFake(t, f, func(o *Options) { o.Tries = 2 })
		c.timeout = 200 * time.Millisecond
		if _, err := c.Open(testCtx(t), false); err != nil {
			t.Fatal(err)
		}
		mustRead(t, c)
		mustWrite(t, c, msg1)
		err := readErr(t, c)
		var ne net.Error
		if !asError(err, &ne) || !ne.Timeout() {
			t.Fatalf("ReadElement error = %v, want a timeout", err)
		}
		if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "token=REDACTED") {
			t.Errorf("error does not redact the token: %v", err)
		}
	})
}

func TestFatalStatus(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusUnauthorized} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			f := newFakeServer(t, fakeConfig{Fault: func(r *fakeRequest) fault {
				if r.Attrs["sid"] != "" {
					return fault{Kind: faultStatus, Status: status}
				}
				return fault{}
			}}, false)
			c := openFake(t, f, nil)
			mustRead(t, c)
			err := readErr(t, c)
			var he *HTTPError
			if !asError(err, &he) || he.Status != status || he.Retried {
				t.Fatalf("ReadElement error = %v, want HTTP %d not retried", err, status)
			}
			if n := len(f.Requests()); n != 2 {
				t.Errorf("%d requests, want 2 (no retry)", n)
			}
		})
	}
}

func TestHTTPRedirect(t *testing.T) {
	f := newFakeServer(t, fakeConfig{Fault: func(r *fakeRequest) fault {
		return fault{Kind: faultRedirect, Body: "https://other.example.com/http-bind"}
	}}, false)
	c := dialFake(t, f, nil)
	_, err := c.Open(testCtx(t), false)
	var re *transport.RedirectError
	if !asError(err, &re) {
		t.Fatalf("Open error = %v, want *transport.RedirectError", err)
	}
	want := transport.RedirectError{Kind: transport.RedirectHTTP, Target: "https://other.example.com/http-bind", Status: http.StatusFound}
	if diff := cmp.Diff(want, *re); diff != "" {
		t.Errorf("redirect (-want +got):\n%s", diff)
	}
	if n := len(f.Requests()); n != 1 {
		t.Errorf("%d requests: the redirect was followed", n)
	}
}

func TestStatusAndTLS(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		name := "http"
		if useTLS {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			f := newFakeServer(t, fakeConfig{Header: http.Header{"X-Jitsi-Shard": {"shard-1"}}}, useTLS)
			c := openFake(t, f, nil)
			st, ok := c.ConnectionState()
			if ok != useTLS || ok && !st.HandshakeComplete {
				t.Errorf("ConnectionState() = complete %v, %v; want ok %v", st.HandshakeComplete, ok, useTLS)
			}
			s := c.Status()
			if s.HTTPStatus != http.StatusOK || s.Header.Get("X-Jitsi-Shard") != "shard-1" {
				t.Errorf("Status() = %d, shard %q", s.HTTPStatus, s.Header.Get("X-Jitsi-Shard"))
			}
			s.Header.Set("X-Jitsi-Shard", "changed")
			if c.Status().Header.Get("X-Jitsi-Shard") != "shard-1" {
				t.Error("Status().Header is not a copy")
			}
		})
	}
}

func TestRequestHeaders(t *testing.T) {
	f := newFakeServer(t, fakeConfig{}, false)
	openFake(t, f, func(o *Options) { o.Header = http.Header{"X-Client": {"bot"}} })
	r := f.Requests()[0]
	if r.Header.Get("X-Client") != "bot" || r.Header.Get("Content-Type") != "text/xml; charset=utf-8" {
		t.Errorf("request headers = %v", r.Header)
	}
}

func TestReportRetransmit(t *testing.T) {
	f := newFakeServer(t, fakeConfig{Ack: true, Report: true, Fault: func(r *fakeRequest) fault {
		// The first long-poll's response is lost on the way.
		if r.Attempt == 1 && r.Attrs["sid"] != "" && len(r.Children) == 0 && r.Attrs["type"] == "" && !r.reportSeen() {
			return fault{Kind: faultSwallow}
		}
		return fault{}
	}}, false)
	c := openFake(t, f, nil)
	mustRead(t, c)
	f.awaitHeld(1)
	f.Push(reply1) // answers the long-poll; the client never sees it
	mustWrite(t, c, msg1)
	if got := mustRead(t, c); got != reply1 {
		t.Fatalf("read %s, want %s", got, reply1)
	}
	if diff := cmp.Diff([]string{msg1}, f.Received()); diff != "" {
		t.Errorf("server received (-want +got):\n%s", diff)
	}
	if !c.Params().Ack {
		t.Error("Params().Ack = false")
	}
	f.mu.Lock()
	reported := f.reported
	f.mu.Unlock()
	if !reported {
		t.Fatal("the server never sent a report")
	}
	first := make(map[uint64][]byte)
	resent := false
	for _, r := range f.Requests() {
		if r.Attempt == 1 {
			first[r.RID] = r.Raw
		} else if bytes.Equal(first[r.RID], r.Raw) {
			resent = true
		}
	}
	if !resent {
		t.Error("the reported request was not retransmitted as it was")
	}
	// The message request told the server what the client had received.
	for _, r := range f.Requests() {
		if carries(r, "<body>one</body>") {
			if r.Attrs["ack"] == "" {
				t.Errorf("request after an unanswered one carries no ack: %s", r.Raw)
			}
		}
	}
}

func TestDialErrors(t *testing.T) {
	tests := []struct{ name, url, domain string }{
		{"ws scheme", "ws://example.com/xmpp", "example.com"},
		{"no host", "https:///http-bind", "example.com"},
		{"bad url with token", "https://exa mple.com/http-bind?token=s3cret", "example.com"},
		{"no domain", "https://example.com/http-bind", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Dial(context.Background(), tt.url, tt.domain, nil)
			if err == nil {
				t.Fatal("Dial succeeded")
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}

func TestRedactedNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	c, err := Dial(context.Background(), u+"/http-bind?token=s3cret&room=x", "example.com", &Options{Tries: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	_, err = c.Open(testCtx(t), false)
	if err == nil {
		t.Fatal("Open to a closed server succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error leaks the token: %v", err)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) {
		t.Errorf("error %v does not wrap the *net.OpError", err)
	}
}
