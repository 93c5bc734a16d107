package jitsitest_test

import (
	"errors"
	"testing"

	"mellium.im/xmpp/jid"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn/jitsi"
	"github.com/xmppconn/xmppconn/xmppconn/jitsi/jitsitest"
)

// TestConferenceRequest asks the focus double for rooms whose name tells it
// what to answer.
func TestConferenceRequest(t *testing.T) {
	servertest.EachWith(t, servertest.ProsodyModules, testConferenceRequest)
}

func testConferenceRequest(t *testing.T, s *servertest.Server) {
	tests := []struct {
		prefix    string // the room name prefix tells the focus double what to answer
		check     func(t *testing.T, conf *jitsi.Conference, err error)
		wantState events.State
		wantFail  events.ErrorType
	}{
		{
			prefix: "ready",
			check: func(t *testing.T, conf *jitsi.Conference, err error) {
				if err != nil || !conf.Ready || conf.Attempts != 1 {
					t.Fatalf("ConferenceRequest = %+v, %v; want ready at once", conf, err)
				}
				if conf.Properties["startAudioMuted"] != "true" || conf.Properties["machine-uid"] == "" {
					t.Errorf("the focus saw properties %v", conf.Properties)
				}
			},
			wantState: events.StateConnected,
		},
		{
			prefix: "notready",
			check: func(t *testing.T, conf *jitsi.Conference, err error) {
				if err != nil || !conf.Ready || conf.Attempts != 3 {
					t.Fatalf("ConferenceRequest = %+v, %v; want ready at the third request", conf, err)
				}
			},
			wantState: events.StateConnected,
		},
		{
			prefix: "vnode",
			check: func(t *testing.T, conf *jitsi.Conference, err error) {
				var vr *jitsi.VnodeRedirect
				if !errors.As(err, &vr) || vr.VNode != jitsitest.VNode {
					t.Fatalf("error = %v, want a redirect to %s", err, jitsitest.VNode)
				}
			},
			wantState: events.StateConnected,
		},
		{
			prefix: "notlive",
			check: func(t *testing.T, conf *jitsi.Conference, err error) {
				if !errors.Is(err, events.NotLiveError) {
					t.Fatalf("error = %v, want notLiveError", err)
				}
			},
			wantState: events.StateFailed,
			wantFail:  events.NotLiveError,
		},
		{
			prefix: "error",
			check: func(t *testing.T, conf *jitsi.Conference, err error) {
				var ce *jitsi.ConferenceError
				if !errors.Is(err, events.ConferenceRequestFailed) || !errors.As(err, &ce) || ce.Err.Condition() != "service-unavailable" {
					t.Fatalf("error = %v, want conferenceRequestFailed (service-unavailable)", err)
				}
			},
			wantState: events.StateFailed,
			wantFail:  events.ConferenceRequestFailed,
		},
		{
			prefix: "auth",
			check: func(t *testing.T, conf *jitsi.Conference, err error) {
				if !errors.Is(err, events.PasswordRequired) {
					t.Fatalf("error = %v, want passwordRequired", err)
				}
			},
			wantState: events.StateFailed,
			wantFail:  events.PasswordRequired,
		},
	}
	for _, ep := range endpoints {
		for _, tt := range tests {
			t.Run(ep.Name+"/"+tt.prefix, func(t *testing.T) {
				xmpptest.NoLeaks(t)
				c, rec := connect(t, config(t, s, ep, jitsitest.MeetDomain))
				room := jid.MustParse(unique(tt.prefix) + "@" + s.MUCDomain)
				conf, err := c.ConferenceRequest(xmpptest.Context(t), room, &jitsi.ConferenceOptions{
					Properties: map[string]string{"startAudioMuted": "true"},
				})
				tt.check(t, conf, err)
				if tt.wantFail != "" {
					fs := rec.WaitType(t, events.ConnectionFailed, 1)
					if f := fs[0].(events.Failed); f.Err != tt.wantFail {
						t.Errorf("ConnectionFailed %s, want %s", f.Err, tt.wantFail)
					}
				}
				if tt.prefix == "vnode" {
					r := rec.WaitType(t, events.ConnectionRedirected, 1)[0].(events.Redirected)
					if r.Kind != events.RedirectVnode || r.Target != jitsitest.VNode || r.Followed || r.FocusJID == "" {
						t.Errorf("ConnectionRedirected = %+v", r)
					}
				}
				if got := c.State(); got != tt.wantState {
					t.Errorf("state = %v, want %v", got, tt.wantState)
				}
			})
		}
	}
}

// TestConferenceRequestMachineUID: the focus sees one machine-uid per
// Connection, the same on every request.
func TestConferenceRequestMachineUID(t *testing.T) {
	servertest.EachWith(t, servertest.ProsodyModules, testConferenceRequestMachineUID)
}

func testConferenceRequestMachineUID(t *testing.T, s *servertest.Server) {
	xmpptest.NoLeaks(t)
	uid := func(c *meet) string {
		conf, err := c.ConferenceRequest(xmpptest.Context(t), jid.MustParse(unique("ready")+"@"+s.MUCDomain), nil)
		if err != nil {
			t.Fatalf("ConferenceRequest: %v", err)
		}
		return conf.Properties["machine-uid"]
	}
	a, _ := connect(t, config(t, s, endpoints[0], jitsitest.MeetDomain))
	b, _ := connect(t, config(t, s, endpoints[1], jitsitest.MeetDomain))
	first, second, other := uid(a), uid(a), uid(b)
	if first == "" || first != second {
		t.Errorf("machine-uid %q then %q on one connection", first, second)
	}
	if other == first {
		t.Errorf("two connections sent machine-uid %q", first)
	}
}
