package xmppconn_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// featuresSASL2 offers SASL2 with Bind 2 and stream management inline, next
// to RFC 6120 SASL, as Prosody with mod_sasl2, mod_sasl2_bind2 and
// mod_sasl2_sm does.
const featuresSASL2 = `<stream:features xmlns:stream='http://etherx.jabber.org/streams'>` +
	`<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>ANONYMOUS</mechanism></mechanisms>` +
	`<authentication xmlns='urn:xmpp:sasl:2'><mechanism>ANONYMOUS</mechanism><inline>` +
	`<bind xmlns='urn:xmpp:bind:0'><inline><feature var='urn:xmpp:carbons:2'/><feature var='urn:xmpp:sm:3'/></inline></bind>` +
	`<sm xmlns='urn:xmpp:sm:3'/></inline></authentication></stream:features>`

// sasl2Bound is a <success/> with a Bind 2 bind and stream management
// enabled inline.
const sasl2Bound = `<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>anon@example.net/xmppconn~abc</authorization-identifier>` +
	`<bound xmlns='urn:xmpp:bind:0'><enabled xmlns='urn:xmpp:sm:3' id='sm-1' resume='1' max='600'/></bound></success>`

// serveSASL2 plays a server up to the client's <authenticate/> and returns it.
func serveSASL2(t *testing.T, f *xmpptest.FakeConn) string {
	t.Helper()
	<-f.Opens
	f.Send(featuresSASL2)
	return f.Expect(t, "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='ANONYMOUS'>")
}

var uuidV4 = regexp.MustCompile(`<user-agent id='([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})'><software>xmppconn</software></user-agent>`)

// TestSASL2Login: one <authenticate/> carries the user agent, the Bind 2
// request with its tag and the inline <enable/>; the <success/> binds the
// session, with stream management on from the start: no restart, no bind
// IQ, no <enable/> afterwards. The second <stream:features/> that old
// servers send after <success/> is ignored, and stanzas around it are
// delivered and counted.
func TestSASL2Login(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	in := newInbox(2)
	cfg := f.Config()
	cfg.Handler = in
	cfg.SASL2.Tag = "bot<1>"
	c := xmppconn.New(cfg)
	rec := xmpptest.Record(c)
	auth := make(chan string, 1)
	go func() {
		auth <- serveSASL2(t, f)
		f.Send(sasl2Bound)
		f.Send(`<message xmlns='jabber:client' from='example.net'><body>one</body></message>`)
		f.Send(xmpptest.FeaturesBind) // the old mod_sasl2's second features: no meaning
		f.Send(`<message xmlns='jabber:client' from='example.net'><body>two</body></message>`)
		f.Send(`<r xmlns='urn:xmpp:sm:3'/>`)
	}()
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	a := <-auth
	if !uuidV4.MatchString(a) {
		t.Errorf("no user agent with a UUID id in %s", a)
	}
	if !strings.Contains(a, "<bind xmlns='urn:xmpp:bind:0'><tag>bot&lt;1&gt;</tag><enable xmlns='urn:xmpp:sm:3' resume='true'/></bind>") {
		t.Errorf("no Bind 2 request with the tag and an inline enable in %s", a)
	}
	if strings.Contains(a, "initial-response") {
		t.Errorf("ANONYMOUS sent an initial response: %s", a)
	}
	if got := c.JID().String(); got != "anon@example.net/xmppconn~abc" {
		t.Errorf("JID = %q", got)
	}
	// The only thing the client owes is the answer to <r/>: both stanzas
	// counted, the features not.
	if got := f.Expect(t, "<a "); !strings.Contains(got, "h='2'") {
		t.Errorf("ack %s, want h='2'", got)
	}
	select {
	case <-in.done:
	case <-time.After(10 * time.Second):
		t.Fatal("stanzas around the second features never reached the handler")
	}
	select {
	case n := <-f.Opens:
		t.Errorf("stream opened again (restart %t)", n)
	default:
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

// TestSASL2UserAgentStable: the user agent id is the same on every stream of
// a Connection (so Bind 2 gives it the same resource), and differs between
// Connections.
func TestSASL2UserAgentStable(t *testing.T) {
	xmpptest.NoLeaks(t)
	fakes := make(chan *xmpptest.FakeConn, 3)
	cfg := xmppconn.Config{URL: "wss://example.net/xmpp-websocket"}
	cfg.Dial = func(context.Context, string, string) (transport.Conn, error) { return <-fakes, nil }
	login := func(c *xmppconn.Connection) string {
		f := xmpptest.NewFakeConn()
		fakes <- f
		got := make(chan string, 1)
		go func() {
			got <- uuidV4.FindStringSubmatch(serveSASL2(t, f))[1]
			f.Send(sasl2Bound)
		}()
		if err := c.Connect(xmpptest.Context(t)); err != nil {
			t.Fatalf("Connect: %v", err)
		}
		if err := c.Disconnect(context.Background()); err != nil {
			t.Errorf("Disconnect: %v", err)
		}
		return <-got
	}
	c := xmppconn.New(cfg)
	first, second := login(c), login(c)
	if first != second {
		t.Errorf("user agent id changed between streams: %s, %s", first, second)
	}
	if other := login(xmppconn.New(cfg)); other == first {
		t.Errorf("two Connections share the user agent id %s", first)
	}
}

// TestSASL2Failures: SASL2 refusals, tasks the client does not implement and
// malformed answers each end in exactly one ConnectionFailed with a typed
// error, never a panic or a hang.
func TestSASL2Failures(t *testing.T) {
	var ce *xmppconn.ContinueError
	var pe *xmppconn.ProtocolError
	var be *xmppconn.BindError
	cases := []struct {
		name      string
		answer    string
		errType   events.ErrorType
		condition string
		target    any    // errors.As target the error must match
		abort     bool   // the client must send <abort/>
		reason    string // substring of the reason
	}{
		{"failure", `<failure xmlns='urn:xmpp:sasl:2'><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><text>bad token</text></failure>`,
			events.PasswordRequired, "not-authorized", nil, false, "bad token"},
		{"continue with tasks", `<continue xmlns='urn:xmpp:sasl:2'><additional-data>AAAA</additional-data><tasks><task>HOTP-EXAMPLE</task><task>TOTP-EXAMPLE</task></tasks><text>second factor</text></continue>`,
			events.PasswordRequired, "aborted", &ce, true, "second factor"},
		{"success without authorization identifier", `<success xmlns='urn:xmpp:sasl:2'><bound xmlns='urn:xmpp:bind:0'/></success>`,
			events.OtherError, "", &pe, false, "authorization identifier"},
		{"success with a bare JID", `<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>anon@example.net</authorization-identifier><bound xmlns='urn:xmpp:bind:0'/></success>`,
			events.OtherError, "", &pe, false, "full JID"},
		{"success with bad base64", `<success xmlns='urn:xmpp:sasl:2'><additional-data>!!!</additional-data><authorization-identifier>anon@example.net/r</authorization-identifier><bound xmlns='urn:xmpp:bind:0'/></success>`,
			events.OtherError, "", &pe, false, "base64"},
		{"success not XML", `<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>anon@example.net/r</authorization`,
			events.OtherError, "", &pe, false, "malformed"},
		{"resumed without resume", `<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>anon@example.net/r</authorization-identifier><resumed xmlns='urn:xmpp:sm:3' h='0' previd='x'/></success>`,
			events.OtherError, "", &pe, false, "did not ask"},
		{"bind failed", `<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>anon@example.net</authorization-identifier><failed xmlns='urn:xmpp:bind:0'><error type='cancel'><not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></failed></success>`,
			events.OtherError, "", &be, false, "not-allowed"},
		{"unexpected element", `<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>AAAA</challenge>`,
			events.OtherError, "", &pe, false, "unexpected"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			f := xmpptest.NewFakeConn()
			c := xmppconn.New(f.Config())
			rec := xmpptest.Record(c)
			go func() {
				serveSASL2(t, f)
				f.Send(tc.answer)
			}()
			err := c.Connect(xmpptest.Context(t))
			var failed events.Failed
			if !errors.As(err, &failed) {
				t.Fatalf("Connect error = %v, want events.Failed", err)
			}
			if tc.target != nil && !errors.As(err, tc.target) {
				t.Errorf("error %v is not a %T", err, tc.target)
			}
			if tc.errType == events.PasswordRequired && !errors.As(err, new(*auth.FailureError)) {
				t.Errorf("error %v does not wrap an auth.FailureError", err)
			}
			xmpptest.Flush(t, c)
			want := []string{"state:CONNECTING", "state:FAILED", "failed:" + string(tc.errType)}
			if diff := cmp.Diff(want, rec.Names()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if failed.Details.Condition != tc.condition {
				t.Errorf("condition = %q, want %q", failed.Details.Condition, tc.condition)
			}
			if !strings.Contains(failed.Reason, tc.reason) {
				t.Errorf("reason %q does not say %q", failed.Reason, tc.reason)
			}
			if tc.abort {
				f.Expect(t, "<abort xmlns='urn:xmpp:sasl:2'>")
			}
			if tc.abort && (len(ce.Tasks) != 2 || ce.Tasks[0] != "HOTP-EXAMPLE") {
				t.Errorf("tasks = %q", ce.Tasks)
			}
		})
	}
}

// TestSASL2NotBound: a server that authenticates without binding (here:
// Bind 2 not offered) sends the features of the authenticated stream; the
// client binds on them, without a restart, and enables stream management
// behind the bind as on the RFC 6120 path.
func TestSASL2NotBound(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	c := xmppconn.New(f.Config())
	go func() {
		<-f.Opens
		f.Send(`<stream:features xmlns:stream='http://etherx.jabber.org/streams'><authentication xmlns='urn:xmpp:sasl:2'><mechanism>ANONYMOUS</mechanism></authentication></stream:features>`)
		if a := f.Expect(t, "<authenticate"); strings.Contains(a, "urn:xmpp:bind:0") {
			t.Errorf("Bind 2 requested though not offered: %s", a)
		}
		f.Send(`<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>anon@example.net</authorization-identifier></success>`)
		f.Send(`<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>`)
		f.Send(xmpptest.BindResult(xmpptest.ID(t, f.Expect(t, "urn:ietf:params:xml:ns:xmpp-bind"))))
	}()
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer c.Disconnect(context.Background())
	f.Expect(t, "<enable xmlns='urn:xmpp:sm:3'")
	if got := c.JID().String(); got != "anon@example.net/r1" {
		t.Errorf("JID = %q", got)
	}
	select {
	case restart := <-f.Opens:
		t.Errorf("stream opened again (restart %t)", restart)
	default:
	}
}

// TestSASL2InlineResume: on reconnection the resumption rides inside
// <authenticate/> next to a Bind 2 request. <resumed/> in <success/> brings
// the session back (what the server had not acknowledged is sent again); a
// <failed/> falls back to the Bind 2 bind of the same exchange (a fresh
// session: everything unacknowledged is sent again, delayed); no answer at
// all is given up after Ping.Timeout, and the same attempt binds a fresh
// session with RFC 6120 SASL on a new transport (SASL2 is broken there).
func TestSASL2InlineResume(t *testing.T) {
	cases := []struct {
		name    string
		answer  string // to the second <authenticate/>; "" sends nothing
		resumed bool
		resent  []string
	}{
		{"resumed", `<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>anon@example.net/xmppconn~abc</authorization-identifier>` +
			`<resumed xmlns='urn:xmpp:sm:3' h='1' previd='sm-1'/></success>`, true, []string{"two"}},
		{"failed", `<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>anon@example.net/xmppconn~abc</authorization-identifier>` +
			`<failed xmlns='urn:xmpp:sm:3' h='1'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>` +
			`<bound xmlns='urn:xmpp:bind:0'><enabled xmlns='urn:xmpp:sm:3' id='sm-2' resume='true'/></bound></success>`, false, []string{"one", "two"}},
		{"no answer", "", false, []string{"one", "two"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			f1, f2, f3 := xmpptest.NewFakeConn(), xmpptest.NewFakeConn(), xmpptest.NewFakeConn()
			d := &dialer{conns: []*xmpptest.FakeConn{f1, f2, f3}, err: errRefused}
			cfg := recoverConfig(d)
			cfg.Ping.Timeout = 200 * time.Millisecond // bounds the wait for the inline answer
			c := xmppconn.New(cfg)
			defer c.Disconnect(context.Background())
			rec := xmpptest.Record(c)
			go func() {
				serveSASL2(t, f1)
				f1.Send(sasl2Bound)
			}()
			if err := c.Connect(xmpptest.Context(t)); err != nil {
				t.Fatalf("Connect: %v", err)
			}
			to := c.JID().Bare()
			for _, body := range []string{"one", "two"} {
				if err := xmpptest.SendBody(xmpptest.Context(t), c, to, body); err != nil {
					t.Fatalf("Send: %v", err)
				}
				f1.Expect(t, body)
			}
			close(f1.ToClient) // the server's side of the stream is gone

			second := serveSASL2(t, f2)
			if !strings.Contains(second, "<resume xmlns='urn:xmpp:sm:3' previd='sm-1' h='0'/>") || !strings.Contains(second, "<bind xmlns='urn:xmpp:bind:0'>") {
				t.Errorf("second <authenticate/> without inline resume and bind: %s", second)
			}
			live := f2
			if tc.answer != "" {
				f2.Send(tc.answer)
			} else {
				// SASL2 left unanswered: RFC 6120 SASL at once on a fresh
				// transport, in the same attempt, binding a fresh session
				// with the old resource (no second try of the resumption).
				req := serveLoginFeatures(t, f3, featuresBindSM)
				if !strings.Contains(req, "<resource>xmppconn~abc</resource>") {
					t.Errorf("fallback bind %s, want the old resource", req)
				}
				f3.Send(`<iq xmlns='jabber:client' type='result' id='` + xmpptest.ID(t, req) +
					`'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>anon@example.net/xmppconn~abc</jid></bind></iq>`)
				f3.Expect(t, "<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
				live = f3
			}
			ev := rec.WaitForNth(t, 10*time.Second, "second ConnectionEstablished", 2, func(e events.Event) bool {
				return e.Type() == events.ConnectionEstablished
			})
			if est := ev.(events.Established); est.Resumed != tc.resumed || est.JID != "anon@example.net/xmppconn~abc" {
				t.Errorf("Established = %+v, want resumed %t", est, tc.resumed)
			}
			for _, body := range tc.resent {
				got := live.Expect(t, body)
				if delayed := strings.Contains(got, "urn:xmpp:delay"); delayed == tc.resumed {
					t.Errorf("sent again %s: delay %t on a resumed %t session", got, delayed, tc.resumed)
				}
			}
			if len(rec.Failures()) != 0 {
				t.Errorf("ConnectionFailed during recovery: %v", rec.Names())
			}
			want := []string{"state:CONNECTING", "state:CONNECTED", "established", "state:DISCONNECTED", "state:RECONNECTING", "state:CONNECTED", "established"}
			if diff := cmp.Diff(want, rec.Names()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSASL2MechanismFallback: when SASL2 offers no mechanism the client
// accepts but RFC 6120 SASL does, the client uses RFC 6120 SASL.
func TestSASL2MechanismFallback(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	c := xmppconn.New(f.Config())
	defer c.Disconnect(context.Background())
	go func() {
		<-f.Opens
		f.Send(`<stream:features xmlns:stream='http://etherx.jabber.org/streams'>` +
			`<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>ANONYMOUS</mechanism></mechanisms>` +
			`<authentication xmlns='urn:xmpp:sasl:2'><mechanism>X-UNKNOWN</mechanism></authentication></stream:features>`)
		f.Expect(t, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'")
		f.Send(xmpptest.SASLSuccess)
		<-f.Opens
		f.Send(xmpptest.FeaturesBind)
		f.Send(xmpptest.BindResult(xmpptest.ID(t, f.Expect(t, "urn:ietf:params:xml:ns:xmpp-bind"))))
	}()
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
}
