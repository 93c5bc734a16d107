package xmppconn_test

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"mellium.im/sasl"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// saslPayload matches the base64 content of a client's SASL element.
var saslPayload = regexp.MustCompile(`<(?:auth|response)[^>]*>([^<]*)</`)

// scramServer plays mellium's SCRAM-SHA-1 server side for alice.
func scramServer(password string) *sasl.Negotiator {
	salt := []byte("NaCl-4-alice")
	return sasl.NewServer(sasl.ScramSha1, nil, sasl.SaltedCredentials(
		func(user, _ []byte, _ string) ([]byte, []byte, int64, error) {
			if string(user) != "alice" {
				return nil, nil, 0, sasl.ErrAuthn
			}
			return salt, sasl.SCRAMSaltPassword(sha1.New, []byte(password), salt, 4096), 4096, nil
		}))
}

// serverStep feeds the client's SASL element to the server side and
// returns the server's answer, base64.
func serverStep(t *testing.T, neg *sasl.Negotiator, elem string) string {
	t.Helper()
	m := saslPayload.FindStringSubmatch(elem)
	if m == nil {
		t.Fatalf("no SASL payload in %s", elem)
	}
	in, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatalf("client payload: %v", err)
	}
	_, out, err := neg.Step(in)
	if err != nil {
		t.Fatalf("server step: %v", err)
	}
	return base64.StdEncoding.EncodeToString(out)
}

const (
	featuresSCRAM = `<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms></stream:features>`
)

// TestAttemptPhases: every attempt records each of its phases once, in
// order, contiguous from its start, their durations adding up to its total;
// and what the server offered, and what the client chose.
func TestAttemptPhases(t *testing.T) {
	type serve func(t *testing.T, f *xmpptest.FakeConn)
	scram := func(t *testing.T, f *xmpptest.FakeConn) {
		neg := scramServer("pencil")
		<-f.Opens
		f.Send(featuresSCRAM)
		f.Send(`<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>` + serverStep(t, neg, f.Expect(t, "mechanism='SCRAM-SHA-1'")) + `</challenge>`)
		f.Send(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>` + serverStep(t, neg, f.Expect(t, "<response")) + `</success>`)
		<-f.Opens
		f.Send(featuresBindSM)
		f.Send(xmpptest.BindResult(xmpptest.ID(t, f.Expect(t, "urn:ietf:params:xml:ns:xmpp-bind"))))
		f.Expect(t, "<enable ")
		f.Send(`<enabled xmlns='urn:xmpp:sm:3' id='sm-1' resume='true'/>`)
	}
	tests := []struct {
		name      string
		creds     auth.Credentials
		fakes     int // transports dialled
		serve     []serve
		want      []string
		connected bool
		offered   xmppconn.Offered
		mechanism string
		sasl2     bool
		smEnable  bool
	}{
		{
			name:      "SASL ANONYMOUS and bind",
			fakes:     1,
			serve:     []serve{func(t *testing.T, f *xmpptest.FakeConn) { f.Send(xmpptest.BindResult(f.ServeLogin(t))) }},
			want:      []string{"connect", "stream_open", "sasl_1", "stream_restart", "bind"},
			offered:   xmppconn.Offered{Mechanisms: []string{"ANONYMOUS"}},
			mechanism: "ANONYMOUS", connected: true,
		},
		{
			name:      "SCRAM in two steps, stream management enabled",
			creds:     auth.Credentials{Username: "alice", Password: auth.NewSecret("pencil")},
			fakes:     1,
			serve:     []serve{scram},
			want:      []string{"connect", "stream_open", "sasl_1", "sasl_2", "stream_restart", "bind"},
			offered:   xmppconn.Offered{Mechanisms: []string{"SCRAM-SHA-1", "PLAIN"}, StreamManagement: true},
			mechanism: "SCRAM-SHA-1", connected: true, smEnable: true,
		},
		{
			name:  "SASL2 with Bind 2",
			fakes: 1,
			serve: []serve{func(t *testing.T, f *xmpptest.FakeConn) {
				serveSASL2(t, f)
				f.Send(sasl2Bound)
			}},
			want: []string{"connect", "stream_open", "sasl_1"},
			offered: xmppconn.Offered{Mechanisms: []string{"ANONYMOUS"}, SASL2: true, SASL2Mechanisms: []string{"ANONYMOUS"},
				Bind2: true, StreamManagement: true},
			mechanism: "ANONYMOUS", sasl2: true, connected: true,
		},
		{
			name:  "refused password",
			creds: auth.Credentials{Username: "alice", Password: auth.NewSecret("wrong")},
			fakes: 1,
			serve: []serve{func(t *testing.T, f *xmpptest.FakeConn) {
				<-f.Opens
				f.Send(featuresSCRAM)
				f.Expect(t, "mechanism='SCRAM-SHA-1'")
				f.Send(`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>`)
			}},
			want:      []string{"connect", "stream_open", "sasl_1"},
			offered:   xmppconn.Offered{Mechanisms: []string{"SCRAM-SHA-1", "PLAIN"}},
			mechanism: "SCRAM-SHA-1",
		},
		{
			name:  "redirect followed: the first dial is one redial phase",
			fakes: 2,
			serve: []serve{
				func(t *testing.T, f *xmpptest.FakeConn) {
					<-f.Opens
					f.Send(`<stream:error xmlns:stream='http://etherx.jabber.org/streams'><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>other.example.net</see-other-host></stream:error>`)
				},
				func(t *testing.T, f *xmpptest.FakeConn) { f.Send(xmpptest.BindResult(f.ServeLogin(t))) },
			},
			want:      []string{"redial", "connect", "stream_open", "sasl_1", "stream_restart", "bind"},
			offered:   xmppconn.Offered{Mechanisms: []string{"ANONYMOUS"}},
			mechanism: "ANONYMOUS", connected: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			fakes := make([]*xmpptest.FakeConn, tt.fakes)
			for i := range fakes {
				fakes[i] = xmpptest.NewFakeConn()
			}
			var dials atomic.Int32
			cfg := fakes[0].Config()
			cfg.Credentials = tt.creds
			cfg.Reconnect.Disabled = true
			cfg.Ping.Disabled = true
			cfg.Dial = func(context.Context, string, string) (transport.Conn, error) {
				return fakes[dials.Add(1)-1], nil
			}
			c := xmppconn.New(cfg)
			if _, ok := c.LastAttempt(); ok {
				t.Error("LastAttempt before Connect reports an attempt")
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i, s := range tt.serve {
					s(t, fakes[i])
				}
			}()
			err := c.Connect(xmpptest.Context(t))
			if (err == nil) != tt.connected {
				t.Fatalf("Connect: %v, want connected %t", err, tt.connected)
			}
			<-done
			if tt.smEnable {
				xmpptest.Eventually(t, "the <enabled/> round trip", func() bool {
					a, _ := c.LastAttempt()
					return a.SMEnable > 0
				})
			}
			a, ok := c.LastAttempt()
			if !ok {
				t.Fatal("no attempt recorded")
			}
			var keys []string
			var sum time.Duration
			for i, p := range a.Phases {
				keys = append(keys, p.Key())
				sum += p.Duration
				if i == 0 && p.Start != 0 {
					t.Errorf("first phase starts at %v", p.Start)
				}
				if i > 0 && p.Start != a.Phases[i-1].Start+a.Phases[i-1].Duration {
					t.Errorf("phase %s starts at %v, not where %s ended", p.Key(), p.Start, a.Phases[i-1].Key())
				}
				if p.Duration < 0 {
					t.Errorf("phase %s lasts %v", p.Key(), p.Duration)
				}
			}
			if diff := cmp.Diff(tt.want, keys); diff != "" {
				t.Errorf("phases (-want +got):\n%s", diff)
			}
			if d := sum - a.Total; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("phases add up to %v, total %v", sum, a.Total)
			}
			if a.Total <= 0 || a.InProgress || a.Connected != tt.connected {
				t.Errorf("Total %v, InProgress %t, Connected %t", a.Total, a.InProgress, a.Connected)
			}
			if diff := cmp.Diff(tt.offered, a.Offered); diff != "" {
				t.Errorf("offered (-want +got):\n%s", diff)
			}
			if a.Mechanism != tt.mechanism || a.SASL2 != tt.sasl2 || a.Bind2 != tt.sasl2 {
				t.Errorf("mechanism %q, SASL2 %t, Bind2 %t; want %q, %t, %t", a.Mechanism, a.SASL2, a.Bind2, tt.mechanism, tt.sasl2, tt.sasl2)
			}
			if a.Transport != xmppconn.TransportCustom || a.Endpoint == "" {
				t.Errorf("transport %q, endpoint %q", a.Transport, a.Endpoint)
			}
			if a.TLS != (xmppconn.TLSInfo{}) {
				t.Errorf("TLS %+v over a transport without TLS", a.TLS)
			}
			if err == nil {
				if err := c.Disconnect(xmpptest.Context(t)); err != nil {
					t.Errorf("Disconnect: %v", err)
				}
			}
			for _, f := range fakes {
				_ = f.Close(context.Background())
			}
		})
	}
}

// TestAttemptInProgress: LastAttempt during an attempt tells the phase it
// is in, with the total so far.
func TestAttemptInProgress(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	cfg := f.Config()
	cfg.Reconnect.Disabled = true
	cfg.Ping.Disabled = true
	c := xmppconn.New(cfg)
	errc := make(chan error, 1)
	go func() { errc <- c.Connect(xmpptest.Context(t)) }()
	<-f.Opens
	f.Send(xmpptest.FeaturesAnon)
	f.Expect(t, "mechanism='ANONYMOUS'")
	a, ok := c.LastAttempt()
	if !ok || !a.InProgress || len(a.Phases) == 0 {
		t.Fatalf("LastAttempt = %+v, %t; want one in progress", a, ok)
	}
	if last := a.Phases[len(a.Phases)-1]; last.Key() != "sasl_1" || last.Start+last.Duration != a.Total {
		t.Errorf("last phase %+v, total %v; want sasl_1 up to now", last, a.Total)
	}
	f.Send(xmpptest.SASLSuccess)
	<-f.Opens
	f.Send(xmpptest.FeaturesBind)
	f.Send(xmpptest.BindResult(xmpptest.ID(t, f.Expect(t, "urn:ietf:params:xml:ns:xmpp-bind"))))
	if err := <-errc; err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if err := c.Disconnect(xmpptest.Context(t)); err != nil {
		t.Errorf("Disconnect: %v", err)
	}
}
