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
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/transport/bosh"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// benchConnect measures connect (SASL + bind) and disconnect against the
// local server, one after the other.
func benchConnect(b *testing.B, s *servertest.Server, url string, mech string) {
	ctx := context.Background()
	if err := s.AddUser(ctx, "bench", "bench-password"); err != nil {
		b.Fatal(err)
	}
	hc := s.HTTPClient()
	defer hc.CloseIdleConnections()
	cfg := xmppconn.Config{
		URL:         url,
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

// BenchmarkConnectWebSocket is connect + bind + disconnect over ws://, per
// server. PLAIN shows the client's own cost without PBKDF2.
func BenchmarkConnectWebSocket(b *testing.B) {
	servertest.EachB(b, func(b *testing.B, s *servertest.Server) {
		for _, mech := range []string{"SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"} {
			b.Run(mech, func(b *testing.B) { benchConnect(b, s, s.WebSocketURL(false), mech) })
		}
	})
}

// BenchmarkConnectBOSH is connect + bind + disconnect over http:// BOSH, per
// server.
func BenchmarkConnectBOSH(b *testing.B) {
	servertest.EachB(b, func(b *testing.B, s *servertest.Server) {
		for _, mech := range []string{"SCRAM-SHA-1", "SCRAM-SHA-256"} {
			b.Run(mech, func(b *testing.B) {
				benchConnect(b, s, s.BOSHURL(false), mech)
			})
		}
	})
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
// the server with 100 in flight and reports messages per second.
func BenchmarkThroughput(b *testing.B) { servertest.EachB(b, benchThroughput) }

func benchThroughput(b *testing.B, s *servertest.Server) {
	for _, ep := range []servertest.Endpoint{servertest.WS, servertest.BOSHHTTP} {
		b.Run(ep.Name, func(b *testing.B) {
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
				cfg := xmppconn.Config{URL: ep.URL(s), Domain: s.Domain, HTTPClient: hc,
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
// session (no stream error: the server holds it for resumption) to CONNECTED
// again, per server and transport, with the first recovery attempt started at
// once (Delay 10 ms; the default waits 1.5-3 s first). It reports the median
// as median-ms, and as resumed the share of recoveries that resumed the
// session (1 where the server can resume it). On Prosody over BOSH it is 0:
// its mod_smacks never answers the <resume/> of a BOSH session, so every
// recovery there is the wait for <resumed/> (Ping.Timeout, 1 s here) and a
// fresh session after it.
func BenchmarkRecoverAfterKill(b *testing.B) { servertest.EachB(b, benchRecoverAfterKill) }

func benchRecoverAfterKill(b *testing.B, s *servertest.Server) {
	for _, ep := range []servertest.Endpoint{servertest.WS, servertest.BOSHHTTP} {
		b.Run(ep.Name, func(b *testing.B) {
			ctx := context.Background()
			user, pass := s.NewUser(b)
			hc := s.HTTPClient()
			defer hc.CloseIdleConnections()
			cfg := xmppconn.Config{URL: ep.URL(s), Domain: s.Domain, HTTPClient: hc,
				Credentials: auth.Credentials{Username: user, Password: auth.NewSecret(pass)}}
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
			resumed := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				full := c.JID().String()
				s.WaitResumable(b, full)
				b.StartTimer()
				start := time.Now()
				if n, err := s.KillSessions(ctx, full, ""); err != nil || n != 1 {
					b.Fatalf("KillSessions = %d, %v", n, err)
				}
				select {
				case est := <-up:
					if est.Resumed {
						resumed++
					}
				case <-time.After(30 * time.Second):
					b.Fatal("no recovery")
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
			b.ReportMetric(float64(resumed)/float64(b.N), "resumed")
		})
	}
}
