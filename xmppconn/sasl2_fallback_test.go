package xmppconn_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// featuresSASL2Only offers SASL2 and nothing to fall back to.
const featuresSASL2Only = `<stream:features xmlns:stream='http://etherx.jabber.org/streams'>` +
	`<authentication xmlns='urn:xmpp:sasl:2'><mechanism>ANONYMOUS</mechanism></authentication></stream:features>`

// serveRFC6120 plays a server through RFC 6120 SASL ANONYMOUS, the restart
// and the bind, and returns what the client sent on the stream.
func serveRFC6120(t *testing.T, f *xmpptest.FakeConn) string {
	t.Helper()
	<-f.Opens
	f.Send(featuresSASL2) // SASL2 still offered: the client must not take it
	a := f.Expect(t, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'")
	f.Send(xmpptest.SASLSuccess)
	if restart := <-f.Opens; !restart {
		t.Error("second Open was not a restart")
	}
	f.Send(xmpptest.FeaturesBind)
	b := f.Expect(t, "urn:ietf:params:xml:ns:xmpp-bind")
	f.Send(xmpptest.BindResult(xmpptest.ID(t, b)))
	return a + "\n" + b
}

// TestSASL2NoAnswerFallback: a server that takes the SASL2 exchange and
// leaves a step without answer (as Prosody 0.12 does with the Debian
// mod_sasl2_sm) costs one bound (Ping.Timeout): the same Connect negotiates
// again at once on a fresh transport with RFC 6120 SASL, with the events of
// a plain login (no failure). The Connection remembers: its next Connect
// goes straight to RFC 6120 SASL.
func TestSASL2NoAnswerFallback(t *testing.T) {
	cases := []struct {
		name  string
		serve func(t *testing.T, f *xmpptest.FakeConn) // the broken SASL2 stream
	}{
		{"authenticate unanswered", func(t *testing.T, f *xmpptest.FakeConn) {
			serveSASL2(t, f)
		}},
		{"no features after success", func(t *testing.T, f *xmpptest.FakeConn) {
			serveSASL2(t, f)
			// Authenticated but not bound, and no features to bind on.
			f.Send(`<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>anon@example.net</authorization-identifier></success>`)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			f1, f2, f3 := xmpptest.NewFakeConn(), xmpptest.NewFakeConn(), xmpptest.NewFakeConn()
			d := &dialer{conns: []*xmpptest.FakeConn{f1, f2, f3}, err: errRefused}
			cfg := recoverConfig(d)
			cfg.Ping.Timeout = 100 * time.Millisecond // the bound on each SASL2 wait
			c := xmppconn.New(cfg)
			defer c.Disconnect(context.Background())
			rec := xmpptest.Record(c)
			go tc.serve(t, f1)
			wire := make(chan string, 1)
			go func() { wire <- serveRFC6120(t, f2) }()
			if err := c.Connect(xmpptest.Context(t)); err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if w := <-wire; strings.Contains(w, "urn:xmpp:sasl:2") {
				t.Errorf("fallback stream used SASL2:\n%s", w)
			}
			select {
			case <-f1.Closed:
			default:
				t.Error("the stream SASL2 left unanswered is still open")
			}
			if got := c.JID().String(); got != "anon@example.net/r1" {
				t.Errorf("JID = %q", got)
			}
			if err := c.Disconnect(context.Background()); err != nil {
				t.Errorf("Disconnect: %v", err)
			}
			xmpptest.Flush(t, c)
			want := []string{"state:CONNECTING", "state:CONNECTED", "established", "state:CLOSING", "state:CLOSED", "disconnected"}
			if diff := cmp.Diff(want, rec.Names()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}

			// Remembered for the Connection: no SASL2 wait any more.
			go func() { wire <- serveRFC6120(t, f3) }()
			if err := c.Connect(xmpptest.Context(t)); err != nil {
				t.Fatalf("second Connect: %v", err)
			}
			<-wire
			if got := d.count(); got != 3 {
				t.Errorf("%d dials, want 3 (broken SASL2, fallback, second Connect)", got)
			}
		})
	}
}

// TestNegotiationNoAnswer: where nothing is left to fall back to, the wait
// ends after the bound with a typed error and exactly one ConnectionFailed
// instead of a hang: a server offering only SASL2 that leaves it
// unanswered, and a server that opens the stream and never sends its
// features (Prosody 0.12 with mod_sasl2 over TLS).
func TestNegotiationNoAnswer(t *testing.T) {
	cases := []struct {
		name     string
		serve    func(f *xmpptest.FakeConn)
		step     string
		sasl2    bool
		wantDial int
	}{
		{"sasl2 only, unanswered", func(f *xmpptest.FakeConn) {
			<-f.Opens
			f.Send(featuresSASL2Only)
		}, "sasl2", true, 1},
		{"no features", func(f *xmpptest.FakeConn) { <-f.Opens }, "features", false, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			f := xmpptest.NewFakeConn()
			d := &dialer{conns: []*xmpptest.FakeConn{f}, err: errRefused}
			cfg := recoverConfig(d)
			cfg.Ping.Timeout = 100 * time.Millisecond
			c := xmppconn.New(cfg)
			defer c.Disconnect(context.Background())
			rec := xmpptest.Record(c)
			go tc.serve(f)
			err := c.Connect(xmpptest.Context(t)) // connectCtx is far longer than the bound
			var na *xmppconn.NoAnswerError
			if !errors.As(err, &na) {
				t.Fatalf("Connect error = %v, want a *NoAnswerError", err)
			}
			if na.Step != tc.step || na.Bound != cfg.Ping.Timeout {
				t.Errorf("NoAnswerError = %+v, want step %s after %v", na, tc.step, cfg.Ping.Timeout)
			}
			if got := errors.Is(err, xmppconn.ErrSASL2NoAnswer); got != tc.sasl2 {
				t.Errorf("errors.Is(err, ErrSASL2NoAnswer) = %t, want %t", got, tc.sasl2)
			}
			if got := d.count(); got != tc.wantDial {
				t.Errorf("%d dials, want %d", got, tc.wantDial)
			}
			xmpptest.Flush(t, c)
			fs := rec.Failures()
			if len(fs) != 1 {
				t.Fatalf("%d ConnectionFailed, want 1: %v", len(fs), rec.Names())
			}
			if fs[0].Err != events.OtherError || !strings.Contains(fs[0].Reason, "no ") {
				t.Errorf("failure %s %q, want otherError naming what was missing", fs[0].Err, fs[0].Reason)
			}
			want := []string{"state:CONNECTING", "state:FAILED", "failed:connection.otherError"}
			if diff := cmp.Diff(want, rec.Names()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}
