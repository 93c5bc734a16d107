package jitsitest_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/transport/bosh"
	"github.com/xmppconn/xmppconn/transport/websocket"
	"github.com/xmppconn/xmppconn/xmppconn/jitsi/jitsitest"
)

// TestPropertiesAndLobby: the Jitsi layer reports the domain's properties
// and the lobby, pushed or asked for.
func TestPropertiesAndLobby(t *testing.T) {
	servertest.EachWith(t, servertest.ProsodyModules, testPropertiesAndLobby)
}

func testPropertiesAndLobby(t *testing.T, s *servertest.Server) {
	tests := []struct {
		name      string
		domain    string
		wantProps map[string]string
		wantLobby string
		services  bool
	}{
		{
			name:   "push before bind, lobby feature in the push",
			domain: jitsitest.MeetDomain,
			wantProps: map[string]string{
				"im": "Prosody", "shard": jitsitest.ShardA, "region": jitsitest.RegionA, "release": jitsitest.ReleaseA,
			},
			wantLobby: jitsitest.LobbyComponent,
			services:  true,
		},
		{
			name:   "disco fallback, lobby asked",
			domain: jitsitest.NoPushDomain,
			wantProps: map[string]string{
				"im": "Prosody", "shard": jitsitest.ShardB, "region": jitsitest.RegionB, "release": jitsitest.ReleaseB,
			},
			wantLobby: jitsitest.LobbyComponent,
		},
	}
	for _, ep := range endpoints {
		for _, tt := range tests {
			t.Run(ep.Name+"/"+tt.name, func(t *testing.T) {
				xmpptest.NoLeaks(t)
				c, rec := connect(t, config(t, s, ep, tt.domain))
				ps := rec.WaitType(t, events.PropertiesUpdated, 1)
				if diff := cmp.Diff(tt.wantProps, ps[0].(events.Properties).Properties); diff != "" {
					t.Errorf("PropertiesUpdated (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.wantProps, c.Properties()); diff != "" {
					t.Errorf("Properties() (-want +got):\n%s", diff)
				}
				ds := rec.WaitType(t, events.DisplayNameRequired, 1)
				if got := ds[0].(events.DisplayName).Lobby; got != tt.wantLobby {
					t.Errorf("DisplayNameRequired lobby = %q, want %q", got, tt.wantLobby)
				}
				// The push comes with the bind, so its events follow
				// ConnectionEstablished at once.
				names := rec.Names()
				if tt.services && (len(names) < 4 || names[3] != string(events.PropertiesUpdated)) {
					t.Errorf("events %v: PropertiesUpdated does not follow ConnectionEstablished", names)
				}
				if got := len(c.Services()); tt.services && got != 2 {
					t.Errorf("Services() has %d entries, want the 2 pushed", got)
				}
			})
		}
	}
}

// readLog is a transport that notes the elements it reads.
type readLog struct {
	transport.Conn
	mu    sync.Mutex
	elems []string
}

func (l *readLog) ReadElement(ctx context.Context) ([]byte, error) {
	e, err := l.Conn.ReadElement(ctx)
	if err == nil {
		l.mu.Lock()
		l.elems = append(l.elems, string(e))
		l.mu.Unlock()
	}
	return e, err
}

// TestPushBeforeBindResult checks the test double against production: the
// push reaches the client before the bind result, over both transports.
func TestPushBeforeBindResult(t *testing.T) {
	servertest.EachWith(t, servertest.ProsodyModules, testPushBeforeBindResult)
}

func testPushBeforeBindResult(t *testing.T, s *servertest.Server) {
	for _, ep := range endpoints {
		t.Run(ep.Name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			cfg := config(t, s, ep, jitsitest.MeetDomain)
			log := &readLog{}
			cfg.Dial = func(ctx context.Context, url, domain string) (transport.Conn, error) {
				var (
					tc  transport.Conn
					err error
				)
				if ep.BOSH {
					tc, err = bosh.Dial(ctx, url, domain, &bosh.Options{HTTPClient: cfg.HTTPClient})
				} else {
					tc, err = websocket.Dial(ctx, url, domain, &websocket.Options{HTTPClient: cfg.HTTPClient})
				}
				if err != nil {
					return nil, err
				}
				log.Conn = tc
				return log, nil
			}
			_, rec := connect(t, cfg)
			rec.WaitType(t, events.PropertiesUpdated, 1)
			log.mu.Lock()
			defer log.mu.Unlock()
			push, bind := -1, -1
			for i, e := range log.elems {
				switch {
				case push < 0 && strings.Contains(e, "<message") && strings.Contains(e, "disco#info"):
					push = i
				case bind < 0 && strings.Contains(e, "urn:ietf:params:xml:ns:xmpp-bind") && strings.Contains(e, "<jid>"):
					bind = i
				}
			}
			if push < 0 || bind < 0 || push > bind {
				t.Errorf("push at %d, bind result at %d; want the push first", push, bind)
			}
		})
	}
}
