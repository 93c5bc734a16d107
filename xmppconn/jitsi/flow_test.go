package jitsi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"mellium.im/xmpp/jid"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
	"github.com/xmppconn/xmppconn/xmppconn/jitsi"
	"github.com/xmppconn/xmppconn/xmppconn/muc"
)

// These tests play a Jitsi deployment over the in-memory transport of
// fakeserver_test.go: the properties push, the disco#info fallback, the lobby,
// the focus and MUC rooms. The same behaviour is checked against a real
// Prosody in package jitsitest.

// pushFrom is Jitsi's properties push for the fake server's domain.
const pushFrom = `<message xmlns='jabber:client' from='example.net' to='anon@example.net/r1'>
<query xmlns='http://jabber.org/protocol/disco#info'>
<identity category='server' type='shard' name='shard-1'/>
<identity category='server' type='region' name='eu-west'/>
<identity category='server' type='release' name='r42'/>
<identity category='component' type='lobbyrooms' name='lobby.example.net'/>
<feature var='http://jitsi.org/protocol/lobbyrooms#displayname_required'/>
</query>
<services xmlns='urn:xmpp:extdisco:2'><service type='turns' host='turn.example.net' port='443' transport='tcp' username='u' password='p'/></services>
</message>`

// meet is a Connection with the Jitsi layer and rooms attached.
type meet struct {
	*xmppconn.Connection
	*jitsi.Deployment
	*muc.Rooms
}

// jitsiConn connects a Connection with the Jitsi layer to a fake server
// that sends early (if any) before the bind result.
func jitsiConn(t *testing.T, early string, tune func(*jitsi.Config)) (*meet, *xmpptest.Recorder, *xmpptest.FakeConn) {
	t.Helper()
	f := xmpptest.NewFakeConn()
	jcfg := jitsi.Config{RetryMin: time.Millisecond, RetryMax: 4 * time.Millisecond}
	if tune != nil {
		tune(&jcfg)
	}
	conn := xmppconn.New(f.Config())
	c := &meet{conn, jitsi.Attach(conn, jcfg), muc.New(conn, muc.Config{})}
	rec := xmpptest.Record(conn)
	go func() {
		id := f.ServeLogin(t)
		if early != "" {
			f.Send(early)
		}
		f.Send(xmpptest.BindResult(id))
	}()
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c, rec, f
}

// awaitClient returns the next element the client sends that contains want,
// skipping others (stream management, pings, ...).
func awaitClient(t *testing.T, f *xmpptest.FakeConn, want string) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-f.FromClient:
			if strings.Contains(string(e), want) {
				return string(e)
			}
		case <-timeout:
			t.Fatalf("client sent nothing with %q", want)
			return ""
		}
	}
}

// rootAttr returns an attribute of the root of a serialized element.
func rootAttr(t *testing.T, elem, name string) string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(elem))
	for {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("no root in %s: %v", elem, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if a.Name.Local == name && a.Name.Space == "" {
					return a.Value
				}
			}
			return ""
		}
	}
}

func TestJitsiPropertiesPush(t *testing.T) {
	xmpptest.NoLeaks(t)
	c, rec, f := jitsiConn(t, pushFrom, nil)
	// The client asks nothing when the push came: everything it sent before
	// this marker message is checked.
	if err := xmpptest.SendBody(xmpptest.Context(t), c.Connection, c.JID().Bare(), "marker"); err != nil {
		t.Fatal(err)
	}
	for {
		e := awaitClient(t, f, "<")
		if strings.Contains(e, "disco#info") {
			t.Errorf("client asked for disco#info despite the push: %s", e)
		}
		if strings.Contains(e, "marker") {
			break
		}
	}
	xmpptest.Flush(t, c.Connection)
	want := []string{"state:CONNECTING", "state:CONNECTED", "established",
		string(events.PropertiesUpdated), string(events.DisplayNameRequired)}
	if diff := cmp.Diff(want, rec.Names()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	wantProps := map[string]string{"shard": "shard-1", "region": "eu-west", "release": "r42"}
	if diff := cmp.Diff(wantProps, c.Properties()); diff != "" {
		t.Errorf("Properties() (-want +got):\n%s", diff)
	}
	if ps := rec.Of(events.PropertiesUpdated); len(ps) == 1 {
		if diff := cmp.Diff(wantProps, ps[0].(events.Properties).Properties); diff != "" {
			t.Errorf("PropertiesUpdated (-want +got):\n%s", diff)
		}
	}
	if ds := rec.Of(events.DisplayNameRequired); len(ds) == 1 {
		if got := ds[0].(events.DisplayName).Lobby; got != "lobby.example.net" {
			t.Errorf("DisplayNameRequired lobby = %q", got)
		}
	}
	svc := c.Services()
	if len(svc) != 1 || svc[0].Host != "turn.example.net" || svc[0].Port != 443 || svc[0].Password != "p" {
		t.Errorf("Services() = %+v", svc)
	}
	// The caller gets a copy.
	c.Properties()["shard"] = "changed"
	if c.Properties()["shard"] != "shard-1" {
		t.Error("Properties() hands out the connection's own map")
	}
}

func TestJitsiPropertiesDiscoFallback(t *testing.T) {
	tests := []struct {
		name          string
		lobbyFeatures string // features of the lobby component's answer
		wantLobby     bool
	}{
		{"lobby requires a display name", `<feature var='http://jitsi.org/protocol/lobbyrooms#displayname_required'/>`, true},
		{"lobby does not", `<feature var='http://jabber.org/protocol/disco#info'/>`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			c, rec, f := jitsiConn(t, "", nil)
			q := awaitClient(t, f, "http://jabber.org/protocol/disco#info")
			if to := rootAttr(t, q, "to"); to != "example.net" {
				t.Errorf("properties query to %q, want the domain", to)
			}
			if typ := rootAttr(t, q, "type"); typ != "get" {
				t.Errorf("properties query of type %q", typ)
			}
			f.Send(`<iq xmlns='jabber:client' type='result' from='example.net' id='` + rootAttr(t, q, "id") + `'>
<query xmlns='http://jabber.org/protocol/disco#info'>
<identity category='server' type='im' name='Prosody'/>
<identity category='server' type='shard' name='shard-2'/>
<identity category='server' type='region' name='us-east'/>
<identity category='component' type='lobbyrooms' name='lobby.example.net'/>
</query></iq>`)
			// Without the feature in the same query, the client asks the lobby.
			lq := awaitClient(t, f, "http://jabber.org/protocol/disco#info")
			if to := rootAttr(t, lq, "to"); to != "lobby.example.net" {
				t.Fatalf("lobby query to %q", to)
			}
			// An answer from anyone else is not the lobby's.
			f.Send(`<iq xmlns='jabber:client' type='result' from='evil.example.org' id='` + rootAttr(t, lq, "id") +
				`'><query xmlns='http://jabber.org/protocol/disco#info'><feature var='http://jitsi.org/protocol/lobbyrooms#displayname_required'/></query></iq>`)
			f.Send(`<iq xmlns='jabber:client' type='result' from='lobby.example.net' id='` + rootAttr(t, lq, "id") +
				`'><query xmlns='http://jabber.org/protocol/disco#info'><identity category='component' type='lobbyrooms' name='lobby.example.net'/>` +
				tt.lobbyFeatures + `</query></iq>`)
			// A later disco#info result of the domain (the bot's own query)
			// updates the properties; once it is seen, the lobby's answer
			// was handled.
			f.Send(`<iq xmlns='jabber:client' type='result' from='example.net' id='bots-own'>
<query xmlns='http://jabber.org/protocol/disco#info'><identity category='server' type='shard' name='shard-3'/></query></iq>`)
			ps := rec.WaitType(t, events.PropertiesUpdated, 2)
			want := map[string]string{"im": "Prosody", "shard": "shard-2", "region": "us-east"}
			if diff := cmp.Diff(want, ps[0].(events.Properties).Properties); diff != "" {
				t.Errorf("first PropertiesUpdated (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]string{"shard": "shard-3"}, c.Properties()); diff != "" {
				t.Errorf("Properties() after the second result (-want +got):\n%s", diff)
			}
			// The lobby's answer is taken on a goroutine of the Connection,
			// which Disconnect waits for.
			if err := c.Disconnect(context.Background()); err != nil {
				t.Fatal(err)
			}
			xmpptest.Flush(t, c.Connection)
			ds := rec.Of(events.DisplayNameRequired)
			switch {
			case tt.wantLobby && (len(ds) != 1 || ds[0].(events.DisplayName).Lobby != "lobby.example.net"):
				t.Errorf("DisplayNameRequired = %v, want one for lobby.example.net", ds)
			case !tt.wantLobby && len(ds) != 0:
				t.Errorf("DisplayNameRequired = %v, want none", ds)
			}
		})
	}
}

func TestJitsiNoPropertiesQuery(t *testing.T) {
	xmpptest.NoLeaks(t)
	c, _, f := jitsiConn(t, "", func(cfg *jitsi.Config) { cfg.PropertiesQuery.Disabled = true })
	if err := xmpptest.SendBody(xmpptest.Context(t), c.Connection, c.JID().Bare(), "marker"); err != nil {
		t.Fatal(err)
	}
	if e := awaitClient(t, f, "<"); !strings.Contains(e, "marker") {
		t.Errorf("first element after CONNECTED is %s, want the marker message", e)
	}
}

// focusReply is how the fake focus answers one conference request (its id
// is filled in).
type focusReply func(id string) string

func focusResult(attrs, props string) focusReply {
	return func(id string) string {
		return `<iq xmlns='jabber:client' type='result' from='focus.example.net' id='` + id + `'>` +
			`<conference xmlns='http://jitsi.org/protocol/focus' room='r@conference.example.net' ` + attrs + `>` + props + `</conference></iq>`
	}
}

func focusError(typ, cond, text string) focusReply {
	return func(id string) string {
		t := ""
		if text != "" {
			t = `<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>` + text + `</text>`
		}
		return `<iq xmlns='jabber:client' type='error' from='focus.example.net' id='` + id + `'><error type='` + typ + `'><` + cond +
			` xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>` + t + `</error></iq>`
	}
}

func TestJitsiConferenceRequest(t *testing.T) {
	notReady := focusResult(`ready='false'`, "")
	ready := focusResult(`ready='true' focusjid='focus@auth.example.net/f'`, `<property name='sipGatewayEnabled' value='true'/>`)
	tests := []struct {
		name        string
		replies     []focusReply
		check       func(t *testing.T, conf *jitsi.Conference, err error)
		wantState   events.State
		wantEvents  []string // after established
		wantRequest int      // requests the focus gets
	}{
		{
			name:    "ready",
			replies: []focusReply{ready},
			check: func(t *testing.T, conf *jitsi.Conference, err error) {
				if err != nil {
					t.Fatalf("ConferenceRequest: %v", err)
				}
				if !conf.Ready || conf.FocusJID != "focus@auth.example.net/f" || conf.Attempts != 1 ||
					conf.Properties["sipGatewayEnabled"] != "true" || conf.Focus.String() != "focus.example.net" {
					t.Errorf("conference = %+v", conf)
				}
			},
			wantState: events.StateConnected,
		},
		{
			name:    "not ready twice, then ready",
			replies: []focusReply{notReady, notReady, ready},
			check: func(t *testing.T, conf *jitsi.Conference, err error) {
				if err != nil {
					t.Fatalf("ConferenceRequest: %v", err)
				}
				if !conf.Ready || conf.Attempts != 3 {
					t.Errorf("conference = %+v, want ready after 3 attempts", conf)
				}
			},
			wantState: events.StateConnected,
		},
		{
			name:    "vnode",
			replies: []focusReply{focusResult(`ready='true' vnode='v1.example.net' focusjid='focus@auth.example.net/f'`, "")},
			check: func(t *testing.T, conf *jitsi.Conference, err error) {
				var vr *jitsi.VnodeRedirect
				if !errors.As(err, &vr) || vr.VNode != "v1.example.net" || vr.FocusJID != "focus@auth.example.net/f" {
					t.Fatalf("error = %v, want a *VnodeRedirect to v1.example.net", err)
				}
				if conf == nil || conf.VNode != "v1.example.net" {
					t.Errorf("conference = %+v", conf)
				}
			},
			wantState:  events.StateConnected,
			wantEvents: []string{string(events.ConnectionRedirected)},
		},
		{
			name:    "not live",
			replies: []focusReply{focusResult(`ready='false'`, `<property name='live' value='false'/>`)},
			check: func(t *testing.T, conf *jitsi.Conference, err error) {
				if !errors.Is(err, events.NotLiveError) || !errors.Is(err, jitsi.ErrNotLive) {
					t.Errorf("error = %v, want notLiveError", err)
				}
			},
			wantState:  events.StateFailed,
			wantEvents: []string{"state:DISCONNECTED", "state:FAILED", "failed:connection.notLiveError"},
		},
		{
			name:    "error",
			replies: []focusReply{focusError("cancel", "service-unavailable", "no bridge")},
			check: func(t *testing.T, conf *jitsi.Conference, err error) {
				var ce *jitsi.ConferenceError
				if !errors.Is(err, events.ConferenceRequestFailed) || !errors.As(err, &ce) ||
					ce.Err.Condition() != "service-unavailable" || ce.Err.Text() != "no bridge" {
					t.Errorf("error = %v, want conferenceRequestFailed wrapping the focus error", err)
				}
				var f events.Failed
				if errors.As(err, &f) && (f.Reason != "no bridge" || f.Details.Condition != "service-unavailable") {
					t.Errorf("failure = %+v", f)
				}
			},
			wantState:  events.StateFailed,
			wantEvents: []string{"state:DISCONNECTED", "state:FAILED", "failed:connection.conferenceRequestFailed"},
		},
		{
			name:    "not authorized",
			replies: []focusReply{focusError("auth", "not-authorized", "")},
			check: func(t *testing.T, conf *jitsi.Conference, err error) {
				if !errors.Is(err, events.PasswordRequired) {
					t.Errorf("error = %v, want passwordRequired", err)
				}
			},
			wantState:  events.StateFailed,
			wantEvents: []string{"state:DISCONNECTED", "state:FAILED", "failed:connection.passwordRequired"},
		},
		{
			name: "answer without conference",
			replies: []focusReply{func(id string) string {
				return `<iq xmlns='jabber:client' type='result' from='focus.example.net' id='` + id + `'/>`
			}},
			check: func(t *testing.T, conf *jitsi.Conference, err error) {
				var pe *xmppconn.ProtocolError
				if !errors.As(err, &pe) {
					t.Errorf("error = %v, want a *ProtocolError", err)
				}
			},
			wantState: events.StateConnected,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			c, rec, f := jitsiConn(t, pushFrom, func(cfg *jitsi.Config) { cfg.MachineUID = "uid-7" })
			room := jid.MustParse("r@conference.example.net")
			served := make(chan int, 1)
			go func() {
				n := 0
				for _, reply := range tt.replies {
					req := awaitClient(t, f, "http://jitsi.org/protocol/focus")
					n++
					if to := rootAttr(t, req, "to"); to != "focus.example.net" {
						t.Errorf("request to %q", to)
					}
					if !strings.Contains(req, `machine-uid="uid-7"`) || !strings.Contains(req, `room="r@conference.example.net"`) ||
						!strings.Contains(req, `<property name="visitors-version" value="1">`) {
						t.Errorf("request %s", req)
					}
					id := rootAttr(t, req, "id")
					// A reply from another JID with the same id is ignored.
					f.Send(strings.Replace(reply(id), "from='focus.example.net'", "from='evil.example.org'", 1))
					f.Send(reply(id))
				}
				served <- n
			}()
			conf, err := c.ConferenceRequest(xmpptest.Context(t), room, &jitsi.ConferenceOptions{
				Properties: map[string]string{"visitors-version": "1"},
			})
			tt.check(t, conf, err)
			if n := <-served; n != len(tt.replies) {
				t.Errorf("focus got %d requests, want %d", n, len(tt.replies))
			}
			xmpptest.Flush(t, c.Connection)
			if got := c.State(); got != tt.wantState {
				t.Errorf("state = %v, want %v", got, tt.wantState)
			}
			names := rec.Names()
			i := slices.Index(names, string(events.DisplayNameRequired)) // the push's events end there
			if diff := cmp.Diff(tt.wantEvents, names[i+1:], cmpEmpty); diff != "" {
				t.Errorf("events after the push (-want +got):\n%s", diff)
			}
			if tt.name == "vnode" {
				r := rec.Of(events.ConnectionRedirected)[0].(events.Redirected)
				want := events.Redirected{Target: "v1.example.net", Kind: "vnode", Followed: false, FocusJID: "focus@auth.example.net/f"}
				if r != want {
					t.Errorf("ConnectionRedirected = %+v, want %+v", r, want)
				}
			}
		})
	}
}

// cmpEmpty treats nil and empty slices alike.
var cmpEmpty = cmp.FilterValues(func(a, b []string) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())

func TestJitsiConferenceRequestHonoursContext(t *testing.T) {
	xmpptest.NoLeaks(t)
	c, _, f := jitsiConn(t, pushFrom, func(cfg *jitsi.Config) {
		cfg.RetryMin, cfg.RetryMax = time.Hour, time.Hour
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		req := awaitClient(t, f, "http://jitsi.org/protocol/focus")
		f.Send(focusResult(`ready='false'`, "")(rootAttr(t, req, "id")))
		cancel() // while the client waits an hour to retry, or its answer
	}()
	_, err := c.ConferenceRequest(ctx, jid.MustParse("r@conference.example.net"), nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if c.State() != events.StateConnected {
		t.Errorf("state = %v; a cancelled request must not end the connection", c.State())
	}
}

func TestJitsiConferenceRequestEndsWithConnection(t *testing.T) {
	xmpptest.NoLeaks(t)
	c, _, f := jitsiConn(t, pushFrom, nil)
	go func() {
		awaitClient(t, f, "http://jitsi.org/protocol/focus")
		_ = c.Disconnect(context.Background())
	}()
	_, err := c.ConferenceRequest(xmpptest.Context(t), jid.MustParse("r@conference.example.net"), nil)
	if err == nil {
		t.Fatal("ConferenceRequest succeeded on a closed connection")
	}
}

func TestJitsiJoinRoom(t *testing.T) {
	const room = "r@conference.example.net"
	errPresence := func(typ, cond, extra string) string {
		return `<presence xmlns='jabber:client' type='error' from='r@conference.example.net/bot'><error type='` + typ + `'><` + cond +
			` xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>` + extra + `</error></presence>`
	}
	tests := []struct {
		name      string
		opts      *muc.JoinOptions
		server    []string // what the room sends after the join presence
		wantRoom  *muc.Room
		wantErr   error
		wantLobby bool // DisplayNameRequired emitted
	}{
		{
			name: "self-presence with status 110 after another occupant",
			server: []string{
				`<presence xmlns='jabber:client' from='r@conference.example.net/alice'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator'/></x></presence>`,
				`<presence xmlns='jabber:client' from='r@conference.example.net/bot'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='participant'/><status code='110'/></x></presence>`,
			},
			wantRoom: &muc.Room{JID: jid.MustParse(room), Nick: "bot", Affiliation: "none", Role: "participant"},
		},
		{
			name: "server without status 110, room created",
			opts: &muc.JoinOptions{DisplayName: "Bot"},
			server: []string{
				`<presence xmlns='jabber:client' from='r@conference.example.net/bot'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator'/><status code='201'/></x></presence>`,
			},
			wantRoom: &muc.Room{JID: jid.MustParse(room), Nick: "bot", Affiliation: "owner", Role: "moderator", Created: true},
		},
		{
			name:      "display name required",
			server:    []string{errPresence("modify", "not-acceptable", `<displayname-required xmlns='http://jitsi.org/jitmeet' lobby='true'/>`)},
			wantErr:   jitsi.ErrDisplayNameRequired,
			wantLobby: true,
		},
		{name: "password required", server: []string{errPresence("auth", "not-authorized", "")}, wantErr: muc.ErrPasswordRequired},
		{name: "members only", server: []string{errPresence("auth", "registration-required", "")}, wantErr: muc.ErrMembersOnly},
		{name: "banned", server: []string{errPresence("auth", "forbidden", "")}, wantErr: muc.ErrBanned},
		{name: "nick conflict", server: []string{errPresence("cancel", "conflict", "")}, wantErr: muc.ErrNicknameConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			c, rec, f := jitsiConn(t, pushFrom, nil)
			go func() {
				p := awaitClient(t, f, "<presence")
				if to := rootAttr(t, p, "to"); to != room+"/bot" {
					t.Errorf("join presence to %q", to)
				}
				if !strings.Contains(p, `xmlns="http://jabber.org/protocol/muc"`) {
					t.Errorf("join presence without the muc payload: %s", p)
				}
				if tt.opts != nil && !strings.Contains(p, `<nick xmlns="http://jabber.org/protocol/nick">Bot</nick>`) {
					t.Errorf("join presence without the display name: %s", p)
				}
				for _, s := range tt.server {
					f.Send(s)
				}
			}()
			got, err := c.Join(xmpptest.Context(t), jid.MustParse(room), "bot", tt.opts)
			if tt.wantErr != nil {
				var je *muc.JoinError
				if !errors.Is(err, tt.wantErr) || !errors.As(err, &je) || je.Room.String() != room {
					t.Fatalf("JoinRoom error = %v, want %v", err, tt.wantErr)
				}
			} else {
				if err != nil {
					t.Fatalf("JoinRoom: %v", err)
				}
				if diff := cmp.Diff(tt.wantRoom, got, cmp.Comparer(func(a, b jid.JID) bool { return a.Equal(b) })); diff != "" {
					t.Errorf("room (-want +got):\n%s", diff)
				}
			}
			xmpptest.Flush(t, c.Connection)
			ds := rec.Of(events.DisplayNameRequired)
			// The push announced the lobby once; a refusal adds the room.
			wantDS := []events.Event{events.DisplayName{Lobby: "lobby.example.net"}}
			if tt.wantLobby {
				wantDS = append(wantDS, events.DisplayName{Lobby: room})
			}
			if diff := cmp.Diff(wantDS, ds); diff != "" {
				t.Errorf("DisplayNameRequired events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJitsiJoinRoomArguments(t *testing.T) {
	xmpptest.NoLeaks(t)
	c, _, f := jitsiConn(t, pushFrom, nil)
	ctx := xmpptest.Context(t)
	for _, tc := range []struct{ room, nick string }{
		{"conference.example.net", "bot"}, // no localpart
		{"r@conference.example.net/x", "bot"},
		{"r@conference.example.net", ""},
	} {
		if _, err := c.Join(ctx, jid.MustParse(tc.room), tc.nick, nil); err == nil {
			t.Errorf("JoinRoom(%q, %q) succeeded", tc.room, tc.nick)
		}
	}
	// A second join of the same room while one waits is refused; the first
	// ends with its context.
	first, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Join(first, jid.MustParse("r@conference.example.net"), "bot", nil)
		errc <- err
	}()
	awaitClient(t, f, "<presence") // the first join waits for its answer now
	_, err := c.Join(ctx, jid.MustParse("r@conference.example.net"), "bot2", nil)
	if err == nil || !strings.Contains(err.Error(), "already in progress") {
		t.Errorf("second join: %v, want already in progress", err)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("first join: %v, want context.Canceled", err)
	}
}

// TestJitsiEventPayloads pins the types, strings and JSON keys of the events
// the Jitsi semantics emit, as the events package documents them.
func TestJitsiEventPayloads(t *testing.T) {
	xmpptest.NoLeaks(t)
	c, rec, f := jitsiConn(t, pushFrom, nil)
	go func() {
		req := awaitClient(t, f, "http://jitsi.org/protocol/focus")
		f.Send(focusResult(`ready='true' vnode='v.example.net'`, "")(rootAttr(t, req, "id")))
	}()
	if _, err := c.ConferenceRequest(xmpptest.Context(t), jid.MustParse("r@conference.example.net"), nil); err == nil {
		t.Fatal("want a vnode redirect")
	}
	xmpptest.Flush(t, c.Connection)
	want := map[events.Type]struct {
		str  string
		keys []string
	}{
		events.PropertiesUpdated:    {"connection.propertiesUpdated", []string{"properties"}},
		events.DisplayNameRequired:  {"connection.display_name_required", []string{"lobby"}},
		events.ConnectionRedirected: {"connection.redirected", []string{"focus_jid", "followed", "kind", "target"}},
	}
	seen := map[events.Type]bool{}
	for _, e := range rec.All() {
		w, ok := want[e.Type()]
		if !ok {
			continue
		}
		seen[e.Type()] = true
		if string(e.Type()) != w.str {
			t.Errorf("event type %q, want %q", e.Type(), w.str)
		}
		switch e.(type) {
		case events.Properties, events.DisplayName, events.Redirected:
		default:
			t.Errorf("%s carries %T", e.Type(), e)
		}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if diff := cmp.Diff(w.keys, keys); diff != "" {
			t.Errorf("%s JSON keys (-want +got):\n%s", e.Type(), diff)
		}
		if e.Type() == events.PropertiesUpdated && !bytes.Contains(b, []byte(`"shard":"shard-1"`)) {
			t.Errorf("properties JSON %s", b)
		}
	}
	for typ := range want {
		if !seen[typ] {
			t.Errorf("no %s event", typ)
		}
	}
}
