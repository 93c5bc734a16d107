package xmppconn_test

import (
	"context"
	"encoding/xml"
	"strconv"
	"testing"
	"time"

	"mellium.im/xmlstream"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/internal/prosodytest"
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
func BenchmarkConnectWebSocket(b *testing.B) {
	for _, mech := range []string{"SCRAM-SHA-1", "SCRAM-SHA-256"} {
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
			hc := s.HTTPClient()
			defer hc.CloseIdleConnections()
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
				if err := sendBody(ctx, sender, to, "m"+strconv.Itoa(i)); err != nil {
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
