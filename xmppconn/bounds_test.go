package xmppconn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/xmlstream"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// TestStepBounds: a server that stops answering in the middle of a
// negotiation costs the bound of that step (Ping.Timeout), not the whole
// attempt, and the error names the step.
func TestStepBounds(t *testing.T) {
	const bound = 100 * time.Millisecond
	for _, tc := range []struct {
		name   string
		script func(f *xmpptest.FakeConn)
		step   string
	}{
		{"no features", func(f *xmpptest.FakeConn) { <-f.Opens }, "features"},
		{"no answer to auth", func(f *xmpptest.FakeConn) {
			<-f.Opens
			f.Send(xmpptest.FeaturesAnon)
		}, "sasl"},
		{"no features after the restart", func(f *xmpptest.FakeConn) {
			<-f.Opens
			f.Send(xmpptest.FeaturesAnon)
			<-f.FromClient
			f.Send(xmpptest.SASLSuccess)
		}, "features"},
		{"no bind result", func(f *xmpptest.FakeConn) {
			<-f.Opens
			f.Send(xmpptest.FeaturesAnon)
			<-f.FromClient
			f.Send(xmpptest.SASLSuccess)
			<-f.Opens
			f.Send(xmpptest.FeaturesBind)
		}, "bind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			f := xmpptest.NewFakeConn()
			cfg := f.Config()
			cfg.Ping.Timeout = bound
			c := xmppconn.New(cfg)
			go tc.script(f)
			start := time.Now()
			err := c.Connect(context.Background())
			elapsed := time.Since(start)
			var na *xmppconn.NoAnswerError
			if !errors.As(err, &na) || na.Step != tc.step || na.Bound != bound {
				t.Fatalf("Connect = %v, want a NoAnswerError of step %s", err, tc.step)
			}
			if elapsed > bound+2*time.Second {
				t.Errorf("Connect took %v, want about the step's bound %v", elapsed, bound)
			}
		})
	}
}

// TestEarlyStanzasBounded: stanzas the server sends before the bind result
// are kept for delivery within InboundLimit; past it the attempt ends with a
// LimitError instead of holding them all.
func TestEarlyStanzasBounded(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	cfg := f.Config()
	cfg.InboundLimit = 4 << 10
	c := xmppconn.New(cfg)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		f.ServeLogin(t)
		msg := []byte("<message xmlns='jabber:client' from='example.net'><body>" + strings.Repeat("x", 200) + "</body></message>")
		for {
			select {
			case f.ToClient <- msg:
			case <-stop:
				return
			case <-f.Closed:
				return
			}
		}
	}()
	err := c.Connect(xmpptest.Context(t))
	var le *transport.LimitError
	if !errors.As(err, &le) || le.Limit != 4<<10 {
		t.Fatalf("Connect = %v, want a LimitError at 4 KiB", err)
	}
}

// slowHandler blocks every stanza until released.
type slowHandler struct {
	release chan struct{}
	mu      sync.Mutex
	handled int
}

func (h *slowHandler) HandleXMPP(_ xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	<-h.release
	h.mu.Lock()
	h.handled++
	h.mu.Unlock()
	return nil
}

// TestHandlerBacklog: behind a Handler that does not keep up, the client
// stops reading once InboundLimit waits (the server's further elements stay
// in its queue, not in the client's memory), and Disconnect returns by its
// deadline, dropping the backlog instead of handing it over.
func TestHandlerBacklog(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	cfg := f.Config()
	cfg.Ping.Disabled = true
	cfg.InboundLimit = 8 << 10
	h := &slowHandler{release: make(chan struct{})}
	cfg.Handler = h
	c := xmppconn.New(cfg)
	go func() { f.Send(xmpptest.BindResult(f.ServeLogin(t))) }()
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatal(err)
	}
	// 10,000 messages of ~300 bytes: 3 MB the client must not take in.
	msg := []byte("<message xmlns='jabber:client' from='peer@example.net/r'><body>" + strings.Repeat("y", 200) + "</body></message>")
	sent := 0
	func() {
		for sent < 10000 {
			select {
			case f.ToClient <- msg:
				sent++
			case <-time.After(500 * time.Millisecond):
				return // the client stopped reading: the server's queue is full
			}
		}
	}()
	if sent > 200 {
		t.Errorf("the client took %d messages behind a Handler that handled none, want about InboundLimit's worth", sent)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Disconnect(ctx)
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Disconnect took %v, want its deadline", elapsed)
	}
	if err == nil {
		t.Error("Disconnect with a Handler still blocked returned nil, want the deadline's error")
	}
	if st := c.State(); st != events.StateClosed {
		t.Errorf("state = %v, want CLOSED", st)
	}
	close(h.release) // the blocked call returns; the rest was dropped
	xmpptest.Eventually(t, "the blocked Handler call returning", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.handled >= 1
	})
	// Disconnect again waits for what is left, which ends now.
	if err := c.Disconnect(xmpptest.Context(t)); err != nil {
		t.Errorf("second Disconnect: %v", err)
	}
	h.mu.Lock()
	handled := h.handled
	h.mu.Unlock()
	if handled > 1 {
		t.Errorf("the Handler got %d stanzas after Disconnect, want the backlog dropped", handled)
	}
}

// TestSecretEchoRedacted: a server that echoes the password in its SASL
// failure text shows it nowhere: not in the error, the events (as JSON),
// nor the logs; the rest of its text is kept.
func TestSecretEchoRedacted(t *testing.T) {
	xmpptest.NoLeaks(t)
	const password = "hunter2-secret"
	f := xmpptest.NewFakeConn()
	cfg := f.Config()
	cfg.Credentials = auth.Credentials{Username: "bob", Password: auth.NewSecret(password)}
	cfg.AllowPlain = true
	cfg.Mechanisms = []string{"PLAIN"}
	var logs bytes.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := xmppconn.New(cfg)
	rec := xmpptest.Record(c)
	go func() {
		<-f.Opens
		f.Send(`<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`)
		f.Expect(t, "PLAIN")
		f.Send(`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/><text>wrong password ` + password + ` for bob</text></failure>`)
	}()
	err := c.Connect(xmpptest.Context(t))
	var ev events.Failed
	if !errors.As(err, &ev) || ev.Err != events.PasswordRequired {
		t.Fatalf("Connect = %v, want passwordRequired", err)
	}
	if !strings.Contains(ev.Reason, "wrong password REDACTED for bob") {
		t.Errorf("reason %q: want the server's text, redacted", ev.Reason)
	}
	var fe *auth.FailureError
	if errors.As(err, &fe) && strings.Contains(fe.Text, password) {
		t.Errorf("the FailureError holds the password: %q", fe.Text)
	}
	var shown []string
	for _, e := range rec.All() {
		b, _ := json.Marshal(e)
		shown = append(shown, string(b))
	}
	shown = append(shown, err.Error(), fmt.Sprintf("%v %+v", err, ev), logs.String())
	for _, s := range shown {
		if strings.Contains(s, password) {
			t.Errorf("the password shows in %q", s)
		}
	}
}
