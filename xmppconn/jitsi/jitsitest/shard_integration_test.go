package jitsitest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
	"github.com/xmppconn/xmppconn/xmppconn/jitsi"
)

// shardProxy is an HTTP reverse proxy in front of the server that names a shard
// in the x-jitsi-shard header of every response, as a Jitsi deployment's
// HAProxy does. The shard can be changed, or removed, at any time.
type shardProxy struct {
	srv *httptest.Server

	mu      sync.Mutex
	shard   string
	served  int           // responses since the last setShard
	changed chan struct{} // closed and replaced at every response
}

func newShardProxy(t *testing.T, s *servertest.Server, shard string) *shardProxy {
	t.Helper()
	target, err := url.Parse(s.BOSHURL(false))
	if err != nil {
		t.Fatal(err)
	}
	target.Path = ""
	p := &shardProxy{shard: shard, changed: make(chan struct{})}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(resp *http.Response) error {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.shard != "" {
			resp.Header.Set(jitsi.ShardHeader, p.shard)
		}
		p.served++
		close(p.changed)
		p.changed = make(chan struct{})
		return nil
	}
	p.srv = httptest.NewServer(rp)
	t.Cleanup(p.srv.Close)
	return p
}

// url returns the proxied form of an endpoint URL of the server.
func (p *shardProxy) url(endpoint string) string {
	u, _ := url.Parse(endpoint)
	pu, _ := url.Parse(p.srv.URL)
	u.Host = pu.Host
	return u.String()
}

func (p *shardProxy) setShard(shard string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.shard, p.served = shard, 0
}

// waitServed waits until n responses went out since the last setShard.
func (p *shardProxy) waitServed(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		p.mu.Lock()
		served, ch := p.served, p.changed
		p.mu.Unlock()
		if served >= n {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("the proxy served %d responses, want %d", served, n)
		}
	}
}

// TestIntegrationShardMove moves the session to another shard (a changed
// x-jitsi-shard header) and checks that the session ends with the configured
// error type; an absent header changes nothing. The header comes from the
// proxy, not from the server, so this runs on every server of the matrix.
func TestIntegrationShardMove(t *testing.T) { servertest.Each(t, testShardMove) }

func testShardMove(t *testing.T, s *servertest.Server) {
	user, pass := s.NewUser(t)
	cases := []struct {
		name     string
		graceful bool
		next     string // the shard named after the switch; "" removes the header
		want     events.ErrorType
	}{
		{"moved", false, "shard-2", events.OtherError},
		{"moved/graceful", true, "shard-2", events.ShardChangedError},
		{"header absent", false, "", ""},
	}
	for _, ep := range endpoints {
		for _, tc := range cases {
			t.Run(ep.Name+"/"+tc.name, func(t *testing.T) {
				xmpptest.NoLeaks(t)
				p := newShardProxy(t, s, "shard-1")
				cfg := xmppconn.Config{URL: p.url(ep.URL(s)), Domain: s.Domain}
				cfg.HTTPClient = http.DefaultClient
				t.Cleanup(http.DefaultClient.CloseIdleConnections)
				cfg.Credentials = auth.Credentials{Username: user, Password: auth.NewSecret(pass)}
				cfg.Reconnect.Disabled = true
				// BOSH carries the header on every response: short pings make
				// responses come. WebSocket asks for it with a periodic GET.
				cfg.Ping.Interval = 100 * time.Millisecond
				c := xmppconn.New(cfg)
				meet := jitsi.Attach(c, jitsi.Config{
					ShardCheck:        jitsi.ShardCheckConfig{Interval: 50 * time.Millisecond},
					GracefulShardMove: tc.graceful,
					PropertiesQuery:   jitsi.PropertiesQueryConfig{Disabled: true},
				})
				rec := xmpptest.Record(c)
				if err := c.Connect(xmpptest.Context(t)); err != nil {
					t.Fatalf("Connect: %v", err)
				}
				defer c.Disconnect(context.Background())
				if got := meet.Shard(); got != "shard-1" {
					t.Fatalf("Shard() after connect = %q, want shard-1", got)
				}

				p.setShard(tc.next)
				if tc.want == "" {
					p.waitServed(t, 3)
					xmpptest.Flush(t, c)
					if fs := rec.Failures(); len(fs) != 0 {
						t.Fatalf("a missing header ended the session: %+v", fs[0])
					}
					if c.State() != events.StateConnected || meet.Shard() != "shard-1" {
						t.Fatalf("state %v, shard %q; want CONNECTED on shard-1", c.State(), meet.Shard())
					}
					return
				}
				ev := rec.WaitFor(t, 20*time.Second, "ConnectionFailed", func(e events.Event) bool {
					_, ok := e.(events.Failed)
					return ok
				})
				f := ev.(events.Failed)
				if f.Err != tc.want || !f.Details.ShardChanged {
					t.Errorf("ConnectionFailed = %s, shard_changed %v; want %s, true", f.Err, f.Details.ShardChanged, tc.want)
				}
				var sce *jitsi.ShardChangedError
				if !errors.As(f, &sce) || sce.From != "shard-1" || sce.To != "shard-2" {
					t.Errorf("cause = %v, want a ShardChangedError from shard-1 to shard-2", f.Cause)
				}
				if !strings.Contains(f.Reason, "shard-2") {
					t.Errorf("reason %q does not name the new shard", f.Reason)
				}
				xmpptest.Flush(t, c)
				if c.State() != events.StateFailed {
					t.Errorf("state = %v, want FAILED", c.State())
				}
				if n := len(rec.Failures()); n != 1 {
					t.Errorf("%d ConnectionFailed events, want 1", n)
				}
			})
		}
	}
}
