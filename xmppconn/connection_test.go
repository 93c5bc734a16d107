package xmppconn_test

import (
	"context"
	"encoding/xml"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// TestEarlyStanzaKept plays Jitsi's Prosody, which pushes its properties
// message from inside resource binding, before the bind result: the
// negotiation must not fail, and the handler must get the stanza.
func TestEarlyStanzaKept(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	in := newInbox(1)
	cfg := f.Config()
	cfg.Handler = in
	c := xmppconn.New(cfg)
	rec := xmpptest.Record(c)
	go func() {
		id := f.ServeLogin(t)
		f.Send(`<message xmlns='jabber:client' from='example.net'><body>pushed before bind</body></message>`)
		f.Send(xmpptest.BindResult(id))
	}()
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	select {
	case <-in.done:
	case <-time.After(10 * time.Second):
		t.Fatal("early stanza never reached the handler")
	}
	if in.bodies[0] != "pushed before bind" {
		t.Errorf("handler got %q", in.bodies[0])
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
}

// TestNegotiationFailures feeds bad or hostile answers during negotiation:
// each ends in exactly one ConnectionFailed with a clear error, never a
// panic or a hang.
func TestNegotiationFailures(t *testing.T) {
	cases := []struct {
		name      string
		script    func(t *testing.T, f *xmpptest.FakeConn)
		errType   events.ErrorType
		condition string
	}{
		{"malformed features", func(t *testing.T, f *xmpptest.FakeConn) {
			<-f.Opens
			f.Send(`<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms`)
		}, events.OtherError, ""},
		{"no mechanisms", func(t *testing.T, f *xmpptest.FakeConn) {
			<-f.Opens
			f.Send(xmpptest.FeaturesBind)
		}, events.OtherError, ""},
		{"stream error before features", func(t *testing.T, f *xmpptest.FakeConn) {
			<-f.Opens
			f.Send(`<stream:error xmlns:stream='http://etherx.jabber.org/streams'><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`)
		}, events.OtherError, "host-unknown"},
		{"sasl failure", func(t *testing.T, f *xmpptest.FakeConn) {
			<-f.Opens
			f.Send(xmpptest.FeaturesAnon)
			f.Expect(t, "ANONYMOUS")
			f.Send(`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-allowed/><text>token expired</text></failure>`)
		}, events.PasswordRequired, "not-allowed"},
		{"bind refused", func(t *testing.T, f *xmpptest.FakeConn) {
			id := f.ServeLogin(t)
			f.Send(`<iq xmlns='jabber:client' type='error' id='` + id + `'><error type='cancel'><not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`)
		}, events.OtherError, ""},
		{"bind result without jid", func(t *testing.T, f *xmpptest.FakeConn) {
			id := f.ServeLogin(t)
			f.Send(`<iq xmlns='jabber:client' type='result' id='` + id + `'/>`)
		}, events.OtherError, ""},
		{"stream closed mid-negotiation", func(t *testing.T, f *xmpptest.FakeConn) {
			<-f.Opens
			close(f.ToClient)
		}, events.OtherError, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			f := xmpptest.NewFakeConn()
			c := xmppconn.New(f.Config())
			rec := xmpptest.Record(c)
			go tc.script(t, f)
			err := c.Connect(xmpptest.Context(t))
			var failed events.Failed
			if !errors.As(err, &failed) {
				t.Fatalf("Connect error = %v, want events.Failed", err)
			}
			xmpptest.Flush(t, c)
			want := []string{"state:CONNECTING", "state:FAILED", "failed:" + string(tc.errType)}
			if diff := cmp.Diff(want, rec.Names()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if failed.Details.Condition != tc.condition {
				t.Errorf("condition = %q, want %q", failed.Details.Condition, tc.condition)
			}
			if failed.Reason == "" {
				t.Error("failure has no reason")
			}
			if c.State() != events.StateFailed {
				t.Errorf("state = %v", c.State())
			}
		})
	}
}

// TestDisconnectDuringConnect cancels a Connect whose server never answers:
// the user asked to stop, so there is no ConnectionFailed.
func TestDisconnectDuringConnect(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	c := xmppconn.New(f.Config())
	rec := xmpptest.Record(c)
	errc := make(chan error, 1)
	go func() { errc <- c.Connect(context.Background()) }()
	<-f.Opens // the attempt is under way; the server stays silent
	if err := c.Disconnect(context.Background()); err != nil {
		t.Errorf("Disconnect: %v", err)
	}
	if err := <-errc; !errors.Is(err, xmppconn.ErrDisconnected) {
		t.Errorf("Connect = %v, want ErrDisconnected", err)
	}
	xmpptest.Flush(t, c)
	want := []string{"state:CONNECTING", "state:CLOSING", "state:CLOSED", "disconnected"}
	if diff := cmp.Diff(want, rec.Names()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestServerPingAnswered checks that an XEP-0199 ping from the server is
// answered even without a Handler.
func TestServerPingAnswered(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	c := xmppconn.New(f.Config())
	go func() { f.Send(xmpptest.BindResult(f.ServeLogin(t))) }()
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(context.Background())
	f.Send(`<iq xmlns='jabber:client' type='get' id='p1' from='example.net'><ping xmlns='urn:xmpp:ping'/></iq>`)
	got := f.Expect(t, "type='result'")
	if xmpptest.ID(t, got) != "p1" {
		t.Errorf("ping answer %s does not carry id p1", got)
	}
}

// TestSendFramesElements sends stanzas through the mellium session: the
// transport gets each as one complete element.
func TestSendFramesElements(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	c := xmppconn.New(f.Config())
	go func() { f.Send(xmpptest.BindResult(f.ServeLogin(t))) }()
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(context.Background())
	big := make([]byte, 10<<10)
	for i := range big {
		big[i] = 'x'
	}
	peer := c.JID().Bare()
	for _, body := range []string{"one", string(big), "three"} {
		if err := xmpptest.SendBody(xmpptest.Context(t), c, peer, body); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"one", string(big), "three"} {
		elem := f.Expect(t, "<message")
		var m struct {
			Body string `xml:"body"`
		}
		if err := xml.Unmarshal([]byte(elem), &m); err != nil {
			t.Fatalf("element %q is not one well-formed message: %v", elem[:min(len(elem), 80)], err)
		}
		if m.Body != want {
			t.Errorf("body of %d bytes, want %d", len(m.Body), len(want))
		}
	}
}

// TestLostSessionFailsOnce: the server closes a live stream without the
// user asking; exactly one ConnectionFailed (droppedError) follows.
func TestLostSessionFailsOnce(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	c := xmppconn.New(f.Config())
	rec := xmpptest.Record(c)
	go func() { f.Send(xmpptest.BindResult(f.ServeLogin(t))) }()
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatal(err)
	}
	f.Send(`<stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced by new connection</text></stream:error>`)
	close(f.ToClient)
	ev := rec.WaitFor(t, 10*time.Second, "ConnectionFailed", func(e events.Event) bool { return e.Type() == events.ConnectionFailed })
	_ = c.Disconnect(context.Background())
	xmpptest.Flush(t, c)
	fl := ev.(events.Failed)
	if fl.Err != events.DroppedError || fl.Details.Condition != "conflict" || fl.Reason != "Replaced by new connection" {
		t.Errorf("failure = %+v", fl)
	}
	want := []string{"state:CONNECTING", "state:CONNECTED", "established", "state:DISCONNECTED", "state:FAILED", "failed:connection.droppedError"}
	if diff := cmp.Diff(want, rec.Names()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestDomainFromAccount: a JID as the username gives the domain (and the
// resource) when Config.Domain is empty; Config.Domain still wins.
func TestDomainFromAccount(t *testing.T) {
	for _, tc := range []struct {
		name, domain, username string
		want                   string
	}{
		{"jid", "", "bob@example.com", "example.com"},
		{"jid with resource", "", "bob@example.com/phone", "example.com"},
		{"configured domain wins", "other.example", "bob@example.com", "other.example"},
		{"localpart", "", "bob", "ws.example.net"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := xmppconn.New(xmppconn.Config{
				URL:         "wss://ws.example.net/xmpp-websocket",
				Domain:      tc.domain,
				Credentials: auth.Credentials{Username: tc.username, Password: auth.NewSecret("pw")},
			})
			if got := c.Domain(); got != tc.want {
				t.Errorf("Domain() = %q, want %q", got, tc.want)
			}
			if u := c.Config().Credentials.Username; u != "bob" {
				t.Errorf("username %q, want the localpart bob", u)
			}
		})
	}
	c := xmppconn.New(xmppconn.Config{URL: "wss://x/", Credentials: auth.Credentials{Username: "bob@example.com/phone"}})
	if r := c.Config().Resource; r != "phone" {
		t.Errorf("Resource = %q, want phone", r)
	}
}
