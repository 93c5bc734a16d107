package xmppconn_test

import (
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/transport/bosh"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// TestIntegrationAttemptPhases logs in on each server of the matrix over
// ws, wss, http and https BOSH, each on a cold connection, and checks the
// attempt's record: each phase of the transport once, in order, adding up
// to the total; the mechanism chosen among those offered; over TLS the
// version and the certificate expiry of the test CA's chain.
func TestIntegrationAttemptPhases(t *testing.T) {
	servertest.Each(t, testIntegrationAttemptPhases)
}

func testIntegrationAttemptPhases(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	caExpiry := s.CAExpiry
	for _, tc := range []struct {
		name, url string
		secure    bool
		request   string
	}{
		{"ws", s.WebSocketURL(false), false, xmppconn.PhaseWebSocketUpgrade},
		{"wss", s.WebSocketURL(true), true, xmppconn.PhaseWebSocketUpgrade},
		{"http", s.BOSHURL(false), false, xmppconn.PhaseBOSHSession},
		{"https", s.BOSHURL(true), true, xmppconn.PhaseBOSHSession},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			cfg := xmppconn.Config{
				URL:         tc.url,
				Domain:      s.Domain,
				Credentials: auth.Credentials{Username: user, Password: auth.NewSecret(pass)},
				TLSConfig:   s.TLSConfig(),
				Reconnect:   xmppconn.ReconnectConfig{Disabled: true},
			}
			if tc.request == xmppconn.PhaseBOSHSession {
				// The default client's settings with a pool of its own: a
				// kept-alive connection would leave out the TCP connection
				// and the handshake.
				tr := http.DefaultTransport.(*http.Transport).Clone()
				tr.TLSClientConfig = s.TLSConfig()
				hc := bosh.NewHTTPClientFrom(tr)
				t.Cleanup(hc.CloseIdleConnections)
				cfg.HTTPClient = hc
			}
			c := xmppconn.New(cfg)
			if err := c.Connect(xmpptest.Context(t)); err != nil {
				t.Fatalf("Connect: %v\n%s", err, s.LogTail(20))
			}
			defer func() {
				if err := c.Disconnect(xmpptest.Context(t)); err != nil {
					t.Errorf("Disconnect: %v", err)
				}
			}()
			a, _ := c.LastAttempt()
			if a.Offered.StreamManagement && !a.Bind2 {
				xmpptest.Eventually(t, "the <enabled/> round trip", func() bool {
					a, _ = c.LastAttempt()
					return a.SMEnable > 0
				})
			}
			t.Logf("%s %s: %s", s, tc.name, describeAttempt(a))

			// 127.0.0.1: no lookup.
			want := []string{xmppconn.PhaseConnect}
			if tc.secure {
				want = append(want, xmppconn.PhaseTLS)
			}
			want = append(want, tc.request, xmppconn.PhaseStreamOpen)
			var got []string
			var sum time.Duration
			steps := 0
			for _, p := range a.Phases {
				got = append(got, p.Key())
				sum += p.Duration
				if p.Name == xmppconn.PhaseSASL {
					steps++
					want = append(want, p.Key())
				}
			}
			switch {
			case !a.SASL2:
				want = append(want, xmppconn.PhaseStreamRestart, xmppconn.PhaseBind)
			case !a.Bind2:
				want = append(want, xmppconn.PhaseBind)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("phases (-want +got):\n%s", diff)
			}
			if steps == 0 || (strings.HasPrefix(a.Mechanism, "SCRAM-") && steps < 2) {
				t.Errorf("%d SASL steps with %s", steps, a.Mechanism)
			}
			if d := sum - a.Total; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("phases add up to %v, total %v", sum, a.Total)
			}
			if !a.Connected || a.InProgress || a.Mechanism == "" || !a.Offered.MechanismOffered(a.Mechanism) {
				t.Errorf("connected %t, in progress %t, mechanism %q of %v %v", a.Connected, a.InProgress, a.Mechanism, a.Offered.Mechanisms, a.Offered.SASL2Mechanisms)
			}
			if !strings.HasPrefix(a.Mechanism, "SCRAM-") {
				t.Errorf("mechanism %q, want SCRAM (preferred, and offered by every server of the matrix)", a.Mechanism)
			}
			if tc.secure {
				if a.TLS.Version < tls.VersionTLS12 {
					t.Errorf("TLS version %#x", a.TLS.Version)
				}
				// The CA and the server certificate expire together.
				if !a.TLS.EarliestCertExpiry.Equal(caExpiry) {
					t.Errorf("earliest certificate expiry %v, want the test CA's %v", a.TLS.EarliestCertExpiry, caExpiry)
				}
			} else if a.TLS != (xmppconn.TLSInfo{}) {
				t.Errorf("TLS %+v without TLS", a.TLS)
			}
		})
	}
}

// describeAttempt is a one-line account of an attempt for test logs.
func describeAttempt(a xmppconn.Attempt) string {
	var b strings.Builder
	for _, p := range a.Phases {
		b.WriteString(p.Key() + "=" + p.Duration.Round(time.Microsecond).String() + " ")
	}
	b.WriteString("total=" + a.Total.Round(time.Microsecond).String())
	b.WriteString(" sm_enable=" + a.SMEnable.Round(time.Microsecond).String())
	b.WriteString(" mechanism=" + a.Mechanism)
	if a.SASL2 {
		b.WriteString(" sasl2")
	}
	if a.Bind2 {
		b.WriteString(" bind2")
	}
	return b.String()
}
