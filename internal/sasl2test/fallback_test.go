package sasl2test_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// fallbackBound is Config.Ping.Timeout in these tests: the bound on each
// wait for the server's next element during negotiation.
const fallbackBound = time.Second

// debianOutcome is what a login over an endpoint reaches on a Prosody of
// kind k that loads the SASL2 modules of its Debian prosody-modules exactly
// as they are, without the test bridge.
type debianOutcome int

const (
	// sasl2Login: SASL2 logs in at once (Prosody 13, whose mod_smacks,
	// connections and BOSH sessions have what the 2025-04 modules use).
	sasl2Login debianOutcome = iota
	// fallbackLogin: SASL2 is offered but <authenticate/> is left
	// unanswered, so after one bound the same Connect logs in with RFC 6120
	// SASL on a fresh transport. Prosody 0.12.3 with the 2023-02 modules:
	// mod_sasl2_sm calls mod_smacks functions 0.12.3 lacks, and over BOSH
	// every SASL2 answer fails on the missing session.base_type.
	fallbackLogin
	// noFeatures: the stream opens and no <stream:features/> ever come
	// (every client fails there). Prosody 0.12.3 over wss: mod_sasl2 asks
	// the connection for ssl_info, which 0.12.3 lacks. (Over BOSH https the
	// features do come.)
	noFeatures
)

func debianOutcomeOf(k servertest.Kind, ep string) debianOutcome {
	if k == servertest.Prosody12 {
		if ep == "wss" {
			return noFeatures
		}
		return fallbackLogin
	}
	return sasl2Login
}

// TestSASL2DebianModulesFallback: against a Prosody with the Debian SASL2
// modules only, Connect never hangs and ends as debianOutcome says. After
// a fallback the Connection remembers it: its next Connect uses RFC 6120
// SASL at once. Without features Connect ends after one bound with a
// *NoAnswerError and exactly one ConnectionFailed.
func TestSASL2DebianModulesFallback(t *testing.T) {
	servertest.EachKind(t, servertest.ProsodyModules, testSASL2DebianModulesFallback)
}

func testSASL2DebianModulesFallback(t *testing.T, k servertest.Kind) {
	s := servertest.StartTest(t, k, &servertest.Options{Prosody: servertest.ProsodyOptions{Modules: sasl2Modules}})
	user, pass := s.NewUser(t)
	for _, ep := range endpoints {
		t.Run(ep.name, func(t *testing.T) {
			noLeaks(t)
			outcome := debianOutcomeOf(k, ep.name)
			cfg, tp := config(t, s, ep.url(s))
			cfg.Credentials = auth.Credentials{Username: user, Password: auth.NewSecret(pass)}
			cfg.Ping.Timeout = fallbackBound
			c := xmppconn.New(cfg)
			defer c.Disconnect(context.Background())
			rec := record(c)
			start := time.Now()
			err := c.Connect(connectCtx(t))
			took := time.Since(start)
			if outcome == noFeatures {
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
			if outcome == sasl2Login {
				checkSASL2(t, tp, 0, "SCRAM-SHA-", true)
				if streams, _ := tp.count(); streams != 1 {
					t.Errorf("%d streams, want 1", streams)
				}
				return
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
