package xmppconn_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"mellium.im/xmlstream"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/prosodytest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/transport/bosh"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// benchConnect measures connect (SASL + bind) and disconnect against the
// local Prosody, one after the other.
func benchConnect(b *testing.B, url func(*prosodytest.Server) string, mech string) {
	s := prosodytest.Require(b)
	ctx := context.Background()
	if err := s.AddUser(ctx, "bench", "bench-password"); err != nil {
		b.Fatal(err)
	}
	hc := s.HTTPClient()
	defer hc.CloseIdleConnections()
	cfg := xmppconn.Config{
		URL:         url(s),
		Domain:      s.Domain,
		HTTPClient:  hc,
		Credentials: auth.Credentials{Username: "bench", Password: auth.NewSecret("bench-password")},
		Mechanisms:  []string{mech},
		AllowPlain:  mech == "PLAIN",
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := xmppconn.New(cfg)
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		if err := c.Connect(cctx); err != nil {
			b.Fatal(err)
		}
		if err := c.Disconnect(cctx); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
}

// BenchmarkConnectWebSocket is connect + bind + disconnect over ws://.
// PLAIN shows the client's own cost without PBKDF2.
func BenchmarkConnectWebSocket(b *testing.B) {
	for _, mech := range []string{"SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"} {
		b.Run(mech, func(b *testing.B) {
			benchConnect(b, func(s *prosodytest.Server) string { return s.WebSocketURL(false) }, mech)
		})
	}
}

// BenchmarkConnectBOSH is connect + bind + disconnect over http:// BOSH.
func BenchmarkConnectBOSH(b *testing.B) {
	for _, mech := range []string{"SCRAM-SHA-1", "SCRAM-SHA-256"} {
		b.Run(mech, func(b *testing.B) {
			benchConnect(b, func(s *prosodytest.Server) string { return s.BOSHURL(false) }, mech)
		})
	}
}

// window counts messages received and lets the sender keep at most cap(sem)
// in flight.
type window struct {
	sem  chan struct{}
	got  chan struct{}
	want int
	n    int
}

func (w *window) HandleXMPP(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	if start.Name.Local != "message" {
		return nil
	}
	<-w.sem
	w.n++
	if w.n == w.want {
		close(w.got)
	}
	return nil
}

// BenchmarkThroughput sends messages from one client to another through
// Prosody with 100 in flight and reports messages per second.
func BenchmarkThroughput(b *testing.B) {
	for _, ep := range []endpoint{endpoints[0], endpoints[2]} {
		b.Run(ep.name, func(b *testing.B) {
			s := prosodytest.Require(b)
			ctx := context.Background()
			for _, u := range []string{"tpa", "tpb"} {
				if err := s.AddUser(ctx, u, u+"-password"); err != nil {
					b.Fatal(err)
				}
			}
			w := &window{sem: make(chan struct{}, 100), got: make(chan struct{}), want: b.N}
			// The harness's transport, dialing as the default BOSH client
			// does (bosh.QuickAckDial).
			tr := s.HTTPClient().Transport.(*http.Transport).Clone()
			tr.DialContext = bosh.QuickAckDial(tr.DialContext)
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr}
			mk := func(user string, h *window) *xmppconn.Connection {
				cfg := xmppconn.Config{URL: ep.url(s), Domain: s.Domain, HTTPClient: hc,
					Credentials: auth.Credentials{Username: user, Password: auth.NewSecret(user + "-password")}}
				if h != nil {
					cfg.Handler = h
				}
				c := xmppconn.New(cfg)
				if err := c.Connect(ctx); err != nil {
					b.Fatal(err)
				}
				return c
			}
			sender, receiver := mk("tpa", nil), mk("tpb", w)
			defer sender.Disconnect(ctx)
			defer receiver.Disconnect(ctx)
			to := receiver.JID()
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				w.sem <- struct{}{}
				if err := xmpptest.SendBody(ctx, sender, to, "m"+strconv.Itoa(i)); err != nil {
					b.Fatal(err)
				}
			}
			select {
			case <-w.got:
			case <-time.After(2 * time.Minute):
				b.Fatalf("only %d of %d messages arrived", w.n, b.N)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

// BenchmarkRecoverAfterKill measures the time from a server-side cut of the
// session (no stream error: Prosody hibernates it) to CONNECTED again, with
// the first recovery attempt started at once (Delay 10 ms; the default
// waits 1.5-3 s first). It reports the median as ms/recovery.
func BenchmarkRecoverAfterKill(b *testing.B) {
	for _, ep := range []endpoint{endpoints[0], endpoints[2]} {
		b.Run(ep.name, func(b *testing.B) {
			s := prosodytest.Require(b)
			ctx := context.Background()
			if err := s.AddUser(ctx, "rec", "rec-password"); err != nil {
				b.Fatal(err)
			}
			hc := s.HTTPClient()
			defer hc.CloseIdleConnections()
			cfg := xmppconn.Config{URL: ep.url(s), Domain: s.Domain, HTTPClient: hc,
				Credentials: auth.Credentials{Username: "rec", Password: auth.NewSecret("rec-password")}}
			cfg.Reconnect.Delay = func(int) time.Duration { return 10 * time.Millisecond }
			cfg.Ping.Timeout = time.Second
			c := xmppconn.New(cfg)
			up := make(chan events.Established, 1)
			c.On(events.ConnectionEstablished, func(e events.Event) { up <- e.(events.Established) })
			if err := c.Connect(ctx); err != nil {
				b.Fatal(err)
			}
			defer c.Disconnect(ctx)
			<-up
			var took []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				full := c.JID().String()
				waitSMB(b, s, full)
				b.StartTimer()
				start := time.Now()
				if n, err := s.KillSessions(ctx, full, ""); err != nil || n != 1 {
					b.Fatalf("KillSessions = %d, %v", n, err)
				}
				select {
				case <-up:
				case <-time.After(30 * time.Second):
					b.Fatal("no recovery")
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
		})
	}
}

// waitSMB waits until Prosody says stream management is resumable for full.
func waitSMB(b *testing.B, s *prosodytest.Server, full string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		infos, err := s.SessionDetails(ctx, full)
		if err == nil && len(infos) == 1 && infos[0].SM && infos[0].Resumable {
			return
		}
		select {
		case <-ctx.Done():
			b.Fatalf("stream management never enabled for %s", full)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
