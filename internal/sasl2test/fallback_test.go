package sasl2test_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/internal/prosodytest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// debianModules are the SASL2 modules exactly as the Debian prosody-modules
// package ships them, without the test bridge: on Prosody 0.12.3 the server
// never answers an <authenticate/> that carries an inline <enable/> or
// <resume/> (mod_sasl2_sm calls mod_smacks functions 0.12.3 lacks), sends
// no stream features at all over TLS (conn:ssl_info is missing), and fails
// every SASL2 answer over BOSH (session.base_type is missing).
// (Over BOSH https the features do come on this machine, and the BOSH
// failure applies.)
var debianModules = []string{"sasl2", "sasl2_bind2", "sasl2_sm"}

// fallbackBound is Config.Ping.Timeout in these tests: the bound on each
// wait for the server's next element during negotiation.
const fallbackBound = time.Second

// debianServer starts a second Prosody, with debianModules, stopped when
// the test ends.
func debianServer(t *testing.T) *prosodytest.Server {
	t.Helper()
	return prosodytest.StartTest(t, &prosodytest.Options{Modules: debianModules})
}

// TestSASL2DebianModulesFallback: against Prosody 0.12.3 with the Debian
// SASL2 modules only, Connect never hangs. Over ws, BOSH and BOSH https the
// server offers SASL2 and leaves the <authenticate/> unanswered (over BOSH
// its SASL2 answers fail on the missing session.base_type): after one bound
// the same Connect negotiates again on a fresh transport with RFC 6120 SASL
// and reaches CONNECTED with the events of a plain login. The Connection
// remembers it: its next Connect uses RFC 6120 SASL at once. Over wss the
// server opens the stream and sends no features at all (every client fails
// there): Connect ends after one bound with a *NoAnswerError and exactly one
// ConnectionFailed.
func TestSASL2DebianModulesFallback(t *testing.T) {
	s := debianServer(t)
	user, pass := s.NewUser(t)
	cases := []struct {
		ep        endpoint
		connected bool
	}{
		{endpoints[0], true},  // ws
		{endpoints[1], false}, // wss: no <stream:features/>
		{endpoints[2], true},  // bosh
		{endpoints[3], true},  // bosh-https
	}
	for _, tc := range cases {
		t.Run(tc.ep.name, func(t *testing.T) {
			noLeaks(t)
			cfg, tp := config(t, s, tc.ep.url(s))
			cfg.Credentials = auth.Credentials{Username: user, Password: auth.NewSecret(pass)}
			cfg.Ping.Timeout = fallbackBound
			c := xmppconn.New(cfg)
			defer c.Disconnect(context.Background())
			rec := record(c)
			start := time.Now()
			err := c.Connect(connectCtx(t))
			took := time.Since(start)
			if !tc.connected {
				var na *xmppconn.NoAnswerError
				if !errors.As(err, &na) || na.Step != "features" {
					t.Fatalf("Connect error = %v, want a *NoAnswerError for the features", err)
				}
				flush(t, c)
				want := []string{"state:CONNECTING", "state:FAILED", "failed:connection.otherError"}
				if diff := cmp.Diff(want, rec.names()); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
				t.Logf("failed after %v", took)
				return
			}
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			t.Logf("connected after %v", took)
			if got := c.JID().Bare().String(); got != user+"@"+s.Domain {
				t.Errorf("JID %s, want %s@%s/…", c.JID(), user, s.Domain)
			}
			// The fallback happened: SASL2 tried on the first stream, RFC
			// 6120 SASL with a restart and a bind on the second.
			if streams, restarts := tp.count(); streams != 2 || restarts != 1 {
				t.Errorf("%d streams and %d restarts, want 2 and 1", streams, restarts)
			}
			if w := tp.wire(0); !strings.Contains(w, "<authenticate xmlns='urn:xmpp:sasl:2'") {
				t.Errorf("stream 0 did not try SASL2:\n%s", w)
			}
			if w := tp.wire(1); strings.Contains(w, "urn:xmpp:sasl:2") ||
				!strings.Contains(w, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl'") ||
				!strings.Contains(w, "urn:ietf:params:xml:ns:xmpp-bind") {
				t.Errorf("stream 1 is not an RFC 6120 login:\n%s", w)
			}
			if err := c.Disconnect(context.Background()); err != nil {
				t.Errorf("Disconnect: %v", err)
			}
			flush(t, c)
			want := []string{"state:CONNECTING", "state:CONNECTED", "established", "state:CLOSING", "state:CLOSED", "connection.connectionDisconnected"}
			if diff := cmp.Diff(want, rec.names()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}

			// Remembered: the next Connect goes to RFC 6120 SASL at once.
			if err := c.Connect(connectCtx(t)); err != nil {
				t.Fatalf("second Connect: %v", err)
			}
			if streams, _ := tp.count(); streams != 3 {
				t.Errorf("%d streams, want 3", streams)
			}
			if w := tp.wire(2); strings.Contains(w, "urn:xmpp:sasl:2") {
				t.Errorf("second Connect tried SASL2 again:\n%s", w)
			}
		})
	}
}
