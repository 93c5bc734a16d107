package jitsi

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xmppconn/xmppconn/xmppconn"
)

func TestParseConference(t *testing.T) {
	tests := []struct {
		name    string
		elem    string
		want    *Conference
		wantErr bool
	}{
		{
			name: "ready",
			elem: `<iq xmlns='jabber:client' type='result' from='focus.d' id='1'>
<conference xmlns='http://jitsi.org/protocol/focus' room='r@c.d' ready='true' focusjid='focus@auth.d/f'>
<property name='sipGatewayEnabled' value='true'/></conference></iq>`,
			want: &Conference{Ready: true, FocusJID: "focus@auth.d/f", Properties: map[string]string{"sipGatewayEnabled": "true"}},
		},
		{
			name: "vnode attribute",
			elem: `<iq xmlns='jabber:client' type='result' id='1'><conference xmlns='http://jitsi.org/protocol/focus' ready='true' vnode='v1.d'/></iq>`,
			want: &Conference{Ready: true, VNode: "v1.d", Properties: map[string]string{}},
		},
		{
			name: "vnode property",
			elem: `<iq xmlns='jabber:client' type='result' id='1'><conference xmlns='http://jitsi.org/protocol/focus' ready='true'>
<property name='vnode' value='v2.d'/></conference></iq>`,
			want: &Conference{Ready: true, VNode: "v2.d", Properties: map[string]string{"vnode": "v2.d"}},
		},
		{
			name: "not live",
			elem: `<iq xmlns='jabber:client' type='result' id='1'><conference xmlns='http://jitsi.org/protocol/focus' ready='false'>
<property name='live' value='false'/></conference></iq>`,
			want: &Conference{Properties: map[string]string{"live": "false"}},
		},
		{
			name: "ready missing means not ready; session-id kept",
			elem: `<iq xmlns='jabber:client' type='result' id='1'><conference xmlns='http://jitsi.org/protocol/focus' session-id='s1'/></iq>`,
			want: &Conference{SessionID: "s1", Properties: map[string]string{}},
		},
		{
			name:    "no conference element",
			elem:    `<iq xmlns='jabber:client' type='result' id='1'/>`,
			wantErr: true,
		},
		{
			name:    "conference of another namespace",
			elem:    `<iq xmlns='jabber:client' type='result' id='1'><conference xmlns='urn:example' ready='true'/></iq>`,
			wantErr: true,
		},
		{
			name:    "malformed",
			elem:    `<iq xmlns='jabber:client' type='result' id='1'><conference`,
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConference([]byte(tt.elem))
			if tt.wantErr {
				var pe *xmppconn.ProtocolError
				if !errors.As(err, &pe) {
					t.Fatalf("error = %v, want a *xmppconn.ProtocolError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestConferenceBackoff(t *testing.T) {
	tests := []struct {
		name    string
		lo, hi  time.Duration
		attempt int
		want    time.Duration
	}{
		{"defaults, first retry", DefaultConferenceRetryMin, DefaultConferenceRetryMax, 1, time.Second},
		{"defaults, second", DefaultConferenceRetryMin, DefaultConferenceRetryMax, 2, 2 * time.Second},
		{"defaults, seventh", DefaultConferenceRetryMin, DefaultConferenceRetryMax, 7, 64 * time.Second},
		{"defaults, capped at 120 s", DefaultConferenceRetryMin, DefaultConferenceRetryMax, 8, 120 * time.Second},
		{"defaults, far out stays capped", DefaultConferenceRetryMin, DefaultConferenceRetryMax, 1000, 120 * time.Second},
		{"test backoff", time.Millisecond, 4 * time.Millisecond, 2, 2 * time.Millisecond},
		{"test backoff capped", time.Millisecond, 4 * time.Millisecond, 5, 4 * time.Millisecond},
		{"min above max", time.Minute, time.Second, 1, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := conferenceBackoff(tt.attempt, tt.lo, tt.hi); got != tt.want {
				t.Errorf("conferenceBackoff(%d, %v, %v) = %v, want %v", tt.attempt, tt.lo, tt.hi, got, tt.want)
			}
		})
	}
}

func TestConferenceIQ(t *testing.T) {
	got := encodeTokens(t, conferenceIQ(mustJID(t, "room@conference.d"), "uid-1", map[string]string{
		"visitors-version": "1", "rtcstatsEnabled": "false",
	}))
	want := `<conference xmlns="http://jitsi.org/protocol/focus" room="room@conference.d" machine-uid="uid-1">` +
		`<property name="rtcstatsEnabled" value="false"></property>` +
		`<property name="visitors-version" value="1"></property></conference>`
	if got != want {
		t.Errorf("conference payload:\n got %s\nwant %s", got, want)
	}
}

func TestMachineUIDStable(t *testing.T) {
	attach := func(cfg Config) *Deployment { return Attach(xmppconn.New(xmppconn.Config{}), cfg) }
	d := attach(Config{})
	a, b := d.machineUID(), d.machineUID()
	if a == "" || a != b {
		t.Errorf("machine-uid %q then %q, want one stable value", a, b)
	}
	if other := attach(Config{}).machineUID(); other == a {
		t.Errorf("two deployments share machine-uid %q", a)
	}
	if got := attach(Config{MachineUID: "fixed"}).machineUID(); got != "fixed" {
		t.Errorf("configured machine-uid = %q", got)
	}
}

func TestFocusJID(t *testing.T) {
	tests := []struct {
		name    string
		cfg     xmppconn.Config
		focus   string
		want    string
		wantErr bool
	}{
		{"from the URL host", xmppconn.Config{URL: "wss://meet.example.com/xmpp-websocket"}, "", "focus.meet.example.com", false},
		{"from the domain", xmppconn.Config{URL: "wss://10.0.0.1/ws", Domain: "meet.example.com"}, "", "focus.meet.example.com", false},
		{"configured", xmppconn.Config{URL: "wss://x/"}, "jicofo.example.com", "jicofo.example.com", false},
		{"configured badly", xmppconn.Config{URL: "wss://x/"}, "@@", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Attach(xmppconn.New(tt.cfg), Config{Focus: tt.focus}).focus()
			if tt.wantErr {
				var ce *xmppconn.ConfigError
				if !errors.As(err, &ce) {
					t.Fatalf("error = %v, want a *ConfigError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want {
				t.Errorf("focus = %s, want %s", got, tt.want)
			}
		})
	}
}
