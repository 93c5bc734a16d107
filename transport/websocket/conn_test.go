package websocket

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/internal/xmlframe"
	"github.com/xmppconn/xmppconn/transport"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// transcript is what a test server saw: messages in order, and the close
// code of the client's close frame.
type transcript struct {
	msgs []string
	code int
}

// recordUntilClosed reads ws until the connection ends, calling answer with
// each message, and sends what it read and the close code on seen.
func recordUntilClosed(ctx context.Context, ws *coder.Conn, seen chan<- transcript, answer func(msg string)) {
	var tr transcript
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			tr.code = int(coder.CloseStatus(err))
			seen <- tr
			return
		}
		tr.msgs = append(tr.msgs, string(b))
		answer(string(b))
	}
}

func (tr transcript) String() string {
	var b strings.Builder
	for _, m := range tr.msgs {
		b.WriteString("C: " + m + "\n")
	}
	b.WriteString("C: close frame " + coder.StatusCode(tr.code).String() + "\n")
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file: %v (run with -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

func TestOpenRestartClose(t *testing.T) {
	seen := make(chan transcript, 1)
	s := newServer(t, false, nil, func(ctx context.Context, t *testing.T, ws *coder.Conn) {
		recordUntilClosed(ctx, ws, seen, func(msg string) {
			switch msg {
			case clientOpen:
				write(ctx, ws, serverOpen)
				write(ctx, ws, "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></stream:features>")
			case clientClose:
				write(ctx, ws, serverClose)
			}
		})
	})
	c := s.dial(t, nil)
	ctx := context.Background()
	for _, restart := range []bool{false, true} {
		h, err := c.Open(ctx, restart)
		if err != nil {
			t.Fatalf("Open(restart=%v): %v", restart, err)
		}
		want := transport.Header{ID: "s1", From: "example.com", Version: "1.0", Lang: "en"}
		if diff := cmp.Diff(want, h); diff != "" {
			t.Errorf("header (-want +got):\n%s", diff)
		}
		f, err := c.ReadElement(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(f), "<stream:features xmlns:stream=") {
			t.Errorf("features = %q", f)
		}
	}
	if err := c.WriteElement(ctx, []byte("<presence xmlns='jabber:client' type='unavailable'/>")); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	golden(t, "open-restart-close.golden", (<-seen).String())

	st := c.Status()
	// The handshake's own headers are not kept; the others are.
	if st.HTTPStatus != 101 || st.WSCloseCode != 1000 || st.Header.Get("Sec-WebSocket-Protocol") != "" || st.Header.Get("Date") == "" {
		t.Errorf("Status() = %+v", st)
	}
	if _, ok := c.ConnectionState(); ok {
		t.Error("ConnectionState() ok for ws://")
	}
	if err := c.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c.ReadElement(ctx); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("ReadElement after Close = %v, want ErrClosed", err)
	}
	if err := c.WriteElement(ctx, []byte("<a/>")); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("WriteElement after Close = %v, want ErrClosed", err)
	}
	if _, err := c.Open(ctx, true); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Open after Close = %v, want ErrClosed", err)
	}
}

func TestSubprotocolRefused(t *testing.T) {
	s := newServer(t, false, &coder.AcceptOptions{}, func(ctx context.Context, t *testing.T, ws *coder.Conn) {
		drainUntilClosed(ctx, ws)
	})
	_, err := Dial(context.Background(), s.URL, "example.com", &Options{HTTPClient: s.Client()})
	var pe *ProtocolError
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "subprotocol") {
		t.Fatalf("Dial = %v, want *ProtocolError about the subprotocol", err)
	}
}

// TestOneElementPerMessage checks both directions: every element is one
// message, whole, whatever its size.
func TestOneElementPerMessage(t *testing.T) {
	big := "<message to='a@example.com' id='big'><body>" + strings.Repeat("0123456789", 1024) + "</body></message>"
	sent := []string{
		big,
		"<presence/>",
		"<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>",
		"<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
		"\n <r xmlns='urn:xmpp:sm:3'/> \n",
	}
	want := []string{
		"<message xmlns='jabber:client' to='a@example.com' id='big'><body>" + strings.Repeat("0123456789", 1024) + "</body></message>",
		"<presence xmlns='jabber:client'/>",
		"<iq xmlns='jabber:client' type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>",
		sent[3],
		"<r xmlns='urn:xmpp:sm:3'/>",
	}
	got := make(chan []string, 1)
	s := newServer(t, false, nil, func(ctx context.Context, t *testing.T, ws *coder.Conn) {
		if !opened(ctx, t, ws) {
			return
		}
		for _, m := range sent {
			write(ctx, ws, m)
		}
		msgs, _ := drainUntilClosed(ctx, ws)
		got <- msgs
	})
	c := s.dial(t, nil)
	ctx := context.Background()
	if _, err := c.Open(ctx, false); err != nil {
		t.Fatal(err)
	}
	var read []string
	for range want {
		e, err := c.ReadElement(ctx)
		if err != nil {
			t.Fatal(err)
		}
		read = append(read, string(e))
	}
	if diff := cmp.Diff(want, read); diff != "" {
		t.Errorf("read (-want +got):\n%s", diff)
	}

	out := []string{big, "<presence/>", "<a xmlns='urn:a'><b/></a>"}
	for _, e := range out {
		if err := c.WriteElement(ctx, []byte(e)); err != nil {
			t.Fatal(err)
		}
	}
	// Elements cut from an encoder's stream by a Splitter go out one by one.
	var sp xmlframe.Splitter
	if err := sp.Write([]byte("<x/><y>1</y><z"), func(e []byte) error { return c.WriteElement(ctx, e) }); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	wantOut := append(append(out, "<x/>", "<y>1</y>"), clientClose)
	if diff := cmp.Diff(wantOut, <-got); diff != "" {
		t.Errorf("server got (-want +got):\n%s", diff)
	}
}

func TestServerClose(t *testing.T) {
	const redirect = "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='wss://other.example.com/xmpp'/>"
	tests := []struct {
		name      string
		afterOpen bool   // the close comes after the <open/> exchange
		close     string // what the server sends
		want      error
	}{
		{"see-other-uri before open", false, redirect, &transport.RedirectError{Kind: transport.RedirectSeeOtherURI, Target: "wss://other.example.com/xmpp"}},
		{"see-other-uri after open", true, redirect, &transport.RedirectError{Kind: transport.RedirectSeeOtherURI, Target: "wss://other.example.com/xmpp"}},
		{"plain close before open", false, serverClose, transport.ErrStreamClosed},
		{"plain close after open", true, serverClose, transport.ErrStreamClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan transcript, 1)
			s := newServer(t, false, nil, func(ctx context.Context, t *testing.T, ws *coder.Conn) {
				if read(ctx, ws) != clientOpen {
					t.Error("no <open/>")
					return
				}
				if tt.afterOpen {
					write(ctx, ws, serverOpen)
				}
				write(ctx, ws, tt.close)
				msgs, code := drainUntilClosed(ctx, ws)
				got <- transcript{msgs, code}
			})
			c := s.dial(t, nil)
			ctx := context.Background()
			_, err := c.Open(ctx, false)
			if tt.afterOpen {
				if err != nil {
					t.Fatal(err)
				}
				_, err = c.ReadElement(ctx)
			}
			if diff := cmp.Diff(tt.want, err, cmp.Comparer(func(a, b error) bool { return a.Error() == b.Error() })); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			var re *transport.RedirectError
			if errors.As(tt.want, &re) && !errors.As(err, &re) {
				t.Fatalf("error %T is not a *transport.RedirectError", err)
			}
			// We answered with our <close/> and closed the WebSocket normally.
			if diff := cmp.Diff(transcript{[]string{clientClose}, 1000}, <-got, cmp.AllowUnexported(transcript{})); diff != "" {
				t.Errorf("server saw (-want +got):\n%s", diff)
			}
			// The end is final.
			if _, err2 := c.ReadElement(ctx); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("ReadElement again = %v, want %v", err2, err)
			}
			if err := c.WriteElement(ctx, []byte("<presence/>")); !errors.Is(err, transport.ErrClosed) {
				t.Errorf("WriteElement after the server's close = %v, want ErrClosed", err)
			}
			if err := c.Close(ctx); err != nil {
				t.Errorf("Close: %v", err)
			}
			if code := c.Status().WSCloseCode; code != 1000 {
				t.Errorf("WSCloseCode = %d, want 1000", code)
			}
		})
	}
}

func TestOpenUnexpectedElement(t *testing.T) {
	const streamError = "<stream:error xmlns:stream='http://etherx.jabber.org/streams'><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
	s := newServer(t, false, nil, func(ctx context.Context, t *testing.T, ws *coder.Conn) {
		read(ctx, ws)
		write(ctx, ws, streamError)
		write(ctx, ws, serverClose)
		drainUntilClosed(ctx, ws)
	})
	c := s.dial(t, nil)
	_, err := c.Open(context.Background(), false)
	var ue *UnexpectedElementError
	if !errors.As(err, &ue) || string(ue.Elem) != streamError {
		t.Fatalf("Open = %v, want *UnexpectedElementError with the stream error", err)
	}
	if !strings.Contains(err.Error(), "stream:error") {
		t.Errorf("error %q does not name the element", err)
	}
	if _, err := c.ReadElement(context.Background()); !errors.Is(err, transport.ErrStreamClosed) {
		t.Errorf("ReadElement = %v, want ErrStreamClosed", err)
	}
}

// TestCloseUnresponsiveServer: a server that reads nothing after the
// <open/> exchange never answers <close/> nor the close frame.
func TestCloseUnresponsiveServer(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration // of Close's ctx; 0: none
		within  time.Duration
	}{
		{"bounded by ctx", 200 * time.Millisecond, 1500 * time.Millisecond},
		{"bounded without ctx deadline", 0, closeWait + handshakeWait + 2*time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, false, nil, func(ctx context.Context, t *testing.T, ws *coder.Conn) {
				opened(ctx, t, ws)
				<-ctx.Done()
			})
			c := s.dial(t, nil)
			if _, err := c.Open(context.Background(), false); err != nil {
				t.Fatal(err)
			}
			readErr := make(chan error, 1)
			go func() {
				_, err := c.ReadElement(context.Background())
				readErr <- err
			}()
			waitReading(c)
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			start := time.Now()
			err := c.Close(ctx)
			if d := time.Since(start); d > tt.within {
				t.Errorf("Close took %v, want at most %v", d, tt.within)
			}
			if err == nil {
				t.Error("Close = nil, want a timeout error")
			}
			if err := <-readErr; err == nil {
				t.Error("blocked ReadElement returned nil")
			}
			if code := c.Status().WSCloseCode; code != 1006 {
				t.Errorf("WSCloseCode = %d, want 1006", code)
			}
		})
	}
}

// waitReading returns once a read is in progress on c.
func waitReading(c *Conn) {
	for {
		c.mu.Lock()
		r := c.reading
		c.mu.Unlock()
		if r {
			return
		}
		runtime.Gosched()
	}
}

func TestCloseBeforeOpen(t *testing.T) {
	got := make(chan transcript, 1)
	s := newServer(t, false, nil, func(ctx context.Context, t *testing.T, ws *coder.Conn) {
		msgs, code := drainUntilClosed(ctx, ws)
		got <- transcript{msgs, code}
	})
	c := s.dial(t, nil)
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(transcript{nil, 1000}, <-got, cmp.AllowUnexported(transcript{})); diff != "" {
		t.Errorf("server saw (-want +got):\n%s", diff)
	}
}

func TestConcurrentClose(t *testing.T) {
	s := newServer(t, false, nil, func(ctx context.Context, t *testing.T, ws *coder.Conn) {
		if !opened(ctx, t, ws) {
			return
		}
		if read(ctx, ws) == clientClose {
			write(ctx, ws, serverClose)
		}
		drainUntilClosed(ctx, ws)
	})
	c := s.dial(t, nil)
	if _, err := c.Open(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 3)
	for range 3 {
		go func() { done <- c.Close(context.Background()) }()
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}

func TestReadFailures(t *testing.T) {
	limits := transport.Limits{MaxElementSize: 1000, MaxDepth: 4}
	tests := []struct {
		name   string
		server func(ctx context.Context, ws *coder.Conn)
		check  func(t *testing.T, err error)
		code   int // Status().WSCloseCode after the failure
	}{
		{
			name:   "binary message",
			server: func(ctx context.Context, ws *coder.Conn) { _ = ws.Write(ctx, coder.MessageBinary, []byte("<a/>")) },
			check:  wantProtocolError,
			code:   1003,
		},
		{
			name:   "malformed element",
			server: func(ctx context.Context, ws *coder.Conn) { write(ctx, ws, "<message><body></message>") },
			check: func(t *testing.T, err error) {
				wantAs[*ProtocolError](t, err)
				wantAs[*xmlframe.SyntaxError](t, err)
			},
			code: 1002,
		},
		{
			name:   "two elements in one message",
			server: func(ctx context.Context, ws *coder.Conn) { write(ctx, ws, "<a/><b/>") },
			check:  wantProtocolError,
			code:   1002,
		},
		{
			name:   "element over MaxElementSize",
			server: func(ctx context.Context, ws *coder.Conn) { write(ctx, ws, "<a>"+strings.Repeat("x", 1000)+"</a>") },
			check:  wantLimit("element size"),
			code:   1009,
		},
		{
			name:   "message over the read limit",
			server: func(ctx context.Context, ws *coder.Conn) { write(ctx, ws, "<a>"+strings.Repeat("x", 10000)+"</a>") },
			check:  wantLimit("element size"),
			code:   1009,
		},
		{
			name:   "too deep",
			server: func(ctx context.Context, ws *coder.Conn) { write(ctx, ws, "<a><b><c><d><e/></d></c></b></a>") },
			check:  wantLimit("nesting depth"),
			code:   1009,
		},
		{
			name:   "abrupt TCP drop",
			server: func(ctx context.Context, ws *coder.Conn) { ws.CloseNow() },
			check: func(t *testing.T, err error) {
				if ce := wantAs[*CloseError](t, err); ce != nil && ce.Code != 1006 {
					t.Errorf("Code = %d, want 1006", ce.Code)
				}
			},
			code: 1006,
		},
		{
			name:   "close frame without <close/>",
			server: func(ctx context.Context, ws *coder.Conn) { ws.Close(coder.StatusGoingAway, "restart") },
			check: func(t *testing.T, err error) {
				if ce := wantAs[*CloseError](t, err); ce != nil && (ce.Code != 1001 || ce.Reason != "restart") {
					t.Errorf("CloseError = %+v, want 1001 restart", ce)
				}
			},
			code: 1001,
		},
		{
			name:   "open twice",
			server: func(ctx context.Context, ws *coder.Conn) { write(ctx, ws, serverOpen) },
			check:  wantProtocolError,
			code:   1002,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, false, nil, func(ctx context.Context, t *testing.T, ws *coder.Conn) {
				if !opened(ctx, t, ws) {
					return
				}
				tt.server(ctx, ws)
				drainUntilClosed(ctx, ws)
			})
			c := s.dial(t, &Options{Limits: limits})
			ctx := context.Background()
			if _, err := c.Open(ctx, false); err != nil {
				t.Fatal(err)
			}
			_, err := c.ReadElement(ctx)
			tt.check(t, err)
			if _, err2 := c.ReadElement(ctx); err2 != err {
				t.Errorf("second ReadElement = %v, want the same error", err2)
			}
			if code := c.Status().WSCloseCode; code != tt.code {
				t.Errorf("WSCloseCode = %d, want %d", code, tt.code)
			}
		})
	}
}

func wantAs[E error](t *testing.T, err error) E {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Errorf("error = %v (%T), want %T", err, err, e)
	}
	return e
}

func wantProtocolError(t *testing.T, err error) {
	t.Helper()
	wantAs[*ProtocolError](t, err)
}

func wantLimit(what string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		if le := wantAs[*transport.LimitError](t, err); le != nil && le.What != what {
			t.Errorf("LimitError.What = %q, want %q", le.What, what)
		}
	}
}

func TestPingTimeout(t *testing.T) {
	s := newServer(t, false, nil, func(ctx context.Context, t *testing.T, ws *coder.Conn) {
		opened(ctx, t, ws)
		<-ctx.Done() // reads nothing, so never answers a ping
	})
	c := s.dial(t, &Options{PingInterval: 50 * time.Millisecond})
	if _, err := c.Open(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	_, err := c.ReadElement(context.Background())
	if ce := wantAs[*CloseError](t, err); ce != nil && (ce.Code != 1006 || !strings.Contains(ce.Error(), "pong")) {
		t.Errorf("error = %v, want 1006 for a missing pong", err)
	}
	if code := c.Status().WSCloseCode; code != 1006 {
		t.Errorf("WSCloseCode = %d, want 1006", code)
	}
}

func TestPingAnswered(t *testing.T) {
	pinged := make(chan struct{})
	s := newServer(t, false, &coder.AcceptOptions{
		Subprotocols: []string{"xmpp"},
		OnPingReceived: func(context.Context, []byte) bool {
			select {
			case <-pinged:
			default:
				close(pinged)
			}
			return true
		},
	}, func(ctx context.Context, t *testing.T, ws *coder.Conn) {
		if !opened(ctx, t, ws) {
			return
		}
		// Reading answers pings; send a stanza once one was answered.
		go func() {
			select {
			case <-pinged:
				write(ctx, ws, "<presence/>")
			case <-ctx.Done():
			}
		}()
		drainUntilClosed(ctx, ws)
	})
	c := s.dial(t, &Options{PingInterval: 20 * time.Millisecond})
	if _, err := c.Open(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadElement(context.Background()); err != nil {
		t.Fatalf("ReadElement: %v", err)
	}
}

func TestConnectionStateTLS(t *testing.T) {
	s := newServer(t, true, nil, func(ctx context.Context, t *testing.T, ws *coder.Conn) {
		if !opened(ctx, t, ws) {
			return
		}
		if read(ctx, ws) == clientClose {
			write(ctx, ws, serverClose)
		}
		drainUntilClosed(ctx, ws)
	})
	if !strings.HasPrefix(s.URL, "wss://") {
		t.Fatalf("URL %s", s.URL)
	}
	for _, name := range []string{"HTTPClient", "TLSConfig"} {
		t.Run(name, func(t *testing.T) {
			opts := &Options{}
			if name == "TLSConfig" {
				pool := x509.NewCertPool()
				pool.AddCert(s.Certificate())
				opts.TLSConfig = &tls.Config{RootCAs: pool}
			}
			c := s.dial(t, opts)
			if _, err := c.Open(context.Background(), false); err != nil {
				t.Fatal(err)
			}
			cs, ok := c.ConnectionState()
			if !ok || !cs.HandshakeComplete || cs.Version < tls.VersionTLS12 || len(cs.PeerCertificates) == 0 {
				t.Errorf("ConnectionState() = %v, %v", cs.Version, ok)
			}
			if err := c.Close(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
}
