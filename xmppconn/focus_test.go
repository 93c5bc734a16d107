package xmppconn

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
				var pe *ProtocolError
				if !errors.As(err, &pe) {
					t.Fatalf("error = %v, want a *ProtocolError", err)
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
		{"defaults, first retry", 0, 0, 1, time.Second},
		{"defaults, second", 0, 0, 2, 2 * time.Second},
		{"defaults, seventh", 0, 0, 7, 64 * time.Second},
		{"defaults, capped at 120 s", 0, 0, 8, 120 * time.Second},
		{"defaults, far out stays capped", 0, 0, 1000, 120 * time.Second},
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
	c := New(Config{})
	a, b := c.machineUID(), c.machineUID()
	if a == "" || a != b {
		t.Errorf("machine-uid %q then %q, want one stable value", a, b)
	}
	if other := New(Config{}).machineUID(); other == a {
		t.Errorf("two connections share machine-uid %q", a)
	}
	if got := New(Config{Jitsi: JitsiConfig{MachineUID: "fixed"}}).machineUID(); got != "fixed" {
		t.Errorf("configured machine-uid = %q", got)
	}
}

func TestFocusJID(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		want    string
		wantErr bool
	}{
		{"from the URL host", Config{URL: "wss://meet.example.com/xmpp-websocket"}, "focus.meet.example.com", false},
		{"from the domain", Config{URL: "wss://10.0.0.1/ws", Domain: "meet.example.com"}, "focus.meet.example.com", false},
		{"configured", Config{URL: "wss://x/", Jitsi: JitsiConfig{Focus: "jicofo.example.com"}}, "jicofo.example.com", false},
		{"configured badly", Config{URL: "wss://x/", Jitsi: JitsiConfig{Focus: "@@"}}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New(tt.cfg).focus()
			if tt.wantErr {
				var ce *ConfigError
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
