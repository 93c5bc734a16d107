package jitsi

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// jitsiPush is a properties push as Jitsi's Prosody sends it from inside
// resource binding.
const jitsiPush = `<message xmlns='jabber:client' from='meet.example.com' to='a@meet.example.com/r' id='p1'>
<query xmlns='http://jabber.org/protocol/disco#info'>
<identity category='server' type='im' name='Prosody'/>
<identity category='server' type='shard' name='shard-1'/>
<identity category='server' type='region' name='eu-west'/>
<identity category='server' type='release' name='1234'/>
<identity category='component' type='lobbyrooms' name='lobby.meet.example.com'/>
<feature var='http://jabber.org/protocol/disco#info'/>
<feature var='http://jitsi.org/protocol/lobbyrooms#displayname_required'/>
</query>
<services xmlns='urn:xmpp:extdisco:2'>
<service type='stun' host='turn.example.com' port='3478' transport='udp'/>
<service type='turns' host='turn.example.com' port='443' transport='tcp' username='u' password='secret' expires='2030-01-01T00:00:00Z' restricted='1'/>
</services>
</message>`

func TestParseDiscoPayload(t *testing.T) {
	tests := []struct {
		name         string
		elem         string
		wantProps    map[string]string
		wantLobby    string // name of the lobbyrooms identity
		wantFeature  bool   // displayname_required in the same query
		wantNoQuery  bool
		wantServices []Service
		wantErr      bool
	}{
		{
			name:        "properties push",
			elem:        jitsiPush,
			wantProps:   map[string]string{"im": "Prosody", "shard": "shard-1", "region": "eu-west", "release": "1234"},
			wantLobby:   "lobby.meet.example.com",
			wantFeature: true,
			wantServices: []Service{
				{Type: "stun", Host: "turn.example.com", Port: 3478, Transport: "udp"},
				{Type: "turns", Host: "turn.example.com", Port: 443, Transport: "tcp", Username: "u", Password: "secret",
					Expires: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Restricted: true},
			},
		},
		{
			name: "disco#info result of the domain",
			elem: `<iq xmlns='jabber:client' type='result' from='meet.example.com' id='x'>
<query xmlns='http://jabber.org/protocol/disco#info'>
<identity category='server' type='shard' name='s2'/><identity category='server' type='region' name='r2'/>
</query></iq>`,
			wantProps: map[string]string{"shard": "s2", "region": "r2"},
		},
		{
			name: "lobby identity without the feature",
			elem: `<iq xmlns='jabber:client' type='result' from='meet.example.com' id='x'>
<query xmlns='http://jabber.org/protocol/disco#info'>
<identity category='component' type='lobbyrooms' name='lobby.meet.example.com'/>
<feature var='urn:xmpp:ping'/>
</query></iq>`,
			wantLobby: "lobby.meet.example.com",
		},
		{
			name: "plain server: software identity only, no properties",
			elem: `<iq xmlns='jabber:client' type='result' from='d' id='x'>
<query xmlns='http://jabber.org/protocol/disco#info'><identity category='server' type='im' name='Prosody'/></query></iq>`,
		},
		{
			name: "region alone makes properties",
			elem: `<iq xmlns='jabber:client' type='result' from='d' id='x'>
<query xmlns='http://jabber.org/protocol/disco#info'><identity category='server' type='im' name='Prosody'/><identity category='server' type='region' name='r'/></query></iq>`,
			wantProps: map[string]string{"im": "Prosody", "region": "r"},
		},
		{
			name: "identities of other categories only",
			elem: `<iq xmlns='jabber:client' type='result' from='meet.example.com' id='x'>
<query xmlns='http://jabber.org/protocol/disco#info'><identity category='pubsub' type='pep'/></query></iq>`,
		},
		{
			name: "server identity without a type is skipped",
			elem: `<iq xmlns='jabber:client' type='result' from='d' id='x'>
<query xmlns='http://jabber.org/protocol/disco#info'><identity category='server' name='x'/></query></iq>`,
		},
		{
			name: "query of another namespace",
			elem: `<iq xmlns='jabber:client' type='result' from='d' id='x'>
<query xmlns='http://jabber.org/protocol/disco#items'><item jid='a'/></query></iq>`,
			wantNoQuery: true,
		},
		{
			name:        "message with a body only",
			elem:        `<message xmlns='jabber:client' from='d'><body>hi</body></message>`,
			wantNoQuery: true,
		},
		{
			name: "service with a bad port and expiry",
			elem: `<message xmlns='jabber:client' from='d'><services xmlns='urn:xmpp:extdisco:2'>
<service type='turn' host='h' port='http' expires='soon'/></services></message>`,
			wantNoQuery:  true,
			wantServices: []Service{{Type: "turn", Host: "h"}},
		},
		{
			name:    "malformed: unclosed element",
			elem:    `<message xmlns='jabber:client' from='d'><query xmlns='http://jabber.org/protocol/disco#info'>`,
			wantErr: true,
		},
		{
			name:    "malformed: not XML",
			elem:    `this is not xml`,
			wantErr: true,
		},
		{
			name:    "malformed: empty",
			elem:    ``,
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, services, err := parseDiscoPayload([]byte(tt.elem))
			if tt.wantErr {
				var pe *xmppconn.ProtocolError
				if !errors.As(err, &pe) {
					t.Fatalf("error = %v, want a *xmppconn.ProtocolError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseDiscoPayload: %v", err)
			}
			if diff := cmp.Diff(tt.wantServices, services); diff != "" {
				t.Errorf("services (-want +got):\n%s", diff)
			}
			if tt.wantNoQuery {
				if info != nil {
					t.Errorf("info = %+v, want none", info)
				}
				return
			}
			if info == nil {
				t.Fatal("no disco#info query found")
			}
			if diff := cmp.Diff(tt.wantProps, info.serverProperties()); diff != "" {
				t.Errorf("properties (-want +got):\n%s", diff)
			}
			lobby := ""
			for _, id := range info.Identities {
				if id.Type == identityLobby {
					lobby = id.Name
				}
			}
			if lobby != tt.wantLobby {
				t.Errorf("lobby identity = %q, want %q", lobby, tt.wantLobby)
			}
			if got := info.hasFeature(FeatureDisplayNameRequired); got != tt.wantFeature {
				t.Errorf("displayname_required = %v, want %v", got, tt.wantFeature)
			}
		})
	}
}

func TestServiceStringHidesPassword(t *testing.T) {
	s := Service{Type: "turns", Host: "h", Port: 443, Transport: "tcp", Username: "u", Password: "secret-credential"}
	for _, got := range []string{s.String(), fmtV(s)} {
		if got != "turns:h:443/tcp" {
			t.Errorf("String() = %q", got)
		}
	}
}

func TestIsDomain(t *testing.T) {
	self := mustJID(t, "a@d.example/r")
	tests := []struct {
		from string
		want bool
	}{
		{"d.example", true},
		{"D.EXAMPLE", true},
		{"", false},
		{"a@d.example", false},
		{"d.example/r", false},
		{"other.example", false},
		{"@bad", false},
	}
	for _, tt := range tests {
		if got := isDomain(tt.from, self); got != tt.want {
			t.Errorf("isDomain(%q) = %v, want %v", tt.from, got, tt.want)
		}
	}
}
