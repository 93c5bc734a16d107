package xmppconn

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRoomErrorIs(t *testing.T) {
	sentinels := []error{ErrDisplayNameRequired, ErrPasswordRequired, ErrMembersOnly, ErrBanned, ErrNicknameConflict}
	tests := []struct {
		name string
		err  *RoomError
		want error // the one sentinel it matches, or nil
	}{
		{"lobby wants a display name", &RoomError{Condition: "not-acceptable", DisplayNameRequired: true, Lobby: true}, ErrDisplayNameRequired},
		{"password-protected room", &RoomError{Condition: "not-authorized"}, ErrPasswordRequired},
		{"members-only room", &RoomError{Condition: "registration-required"}, ErrMembersOnly},
		{"banned", &RoomError{Condition: "forbidden"}, ErrBanned},
		{"nick in use", &RoomError{Condition: "conflict"}, ErrNicknameConflict},
		{"room full", &RoomError{Condition: "service-unavailable"}, nil},
		{"plain not-acceptable", &RoomError{Condition: "not-acceptable"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range sentinels {
				if got := errors.Is(tt.err, s); got != (s == tt.want) {
					t.Errorf("errors.Is(%v, %v) = %v", tt.err, s, got)
				}
			}
			var re *RoomError
			if !errors.As(error(tt.err), &re) {
				t.Error("errors.As to *RoomError failed")
			}
		})
	}
}

func TestRoomErrorText(t *testing.T) {
	e := &RoomError{Room: mustJID(t, "lobby1@conference.d"), Condition: "not-acceptable", DisplayNameRequired: true, Text: "set a name"}
	want := "xmppconn: join room lobby1@conference.d: not-acceptable (display name required): set a name"
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
}

func TestParseMUCUser(t *testing.T) {
	tests := []struct {
		name    string
		elem    string
		want    *mucUser
		wantErr bool
	}{
		{
			name: "self-presence of a new room",
			elem: `<presence xmlns='jabber:client' from='r@c.d/bot'><x xmlns='http://jabber.org/protocol/muc#user'>
<item affiliation='owner' role='moderator'/><status code='110'/><status code='201'/></x></presence>`,
			want: &mucUser{Affiliation: "owner", Role: "moderator", Statuses: []string{"110", "201"}},
		},
		{
			name: "another occupant",
			elem: `<presence xmlns='jabber:client' from='r@c.d/other'><x xmlns='http://jabber.org/protocol/muc#user'>
<item affiliation='none' role='participant'/></x></presence>`,
			want: &mucUser{Affiliation: "none", Role: "participant"},
		},
		{
			name: "no muc#user payload",
			elem: `<presence xmlns='jabber:client' from='r@c.d/x'/>`,
			want: &mucUser{},
		},
		{
			name:    "malformed",
			elem:    `<presence xmlns='jabber:client'><x xmlns='http://jabber.org/protocol/muc#user'>`,
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMUCUser([]byte(tt.elem))
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

func TestJoinPresence(t *testing.T) {
	occ := mustJID(t, "room@conference.d/bot")
	tests := []struct {
		name    string
		opts    JoinOptions
		want    []string
		notWant []string
	}{
		{
			name:    "plain",
			want:    []string{`to="room@conference.d/bot"`, `<x xmlns="http://jabber.org/protocol/muc"></x>`},
			notWant: []string{"password", "nick"},
		},
		{
			name: "display name and password",
			opts: JoinOptions{DisplayName: "Recorder <1>", Password: "s3cret"},
			want: []string{
				`<x xmlns="http://jabber.org/protocol/muc"><password>s3cret</password></x>`,
				`<nick xmlns="http://jabber.org/protocol/nick">Recorder &lt;1&gt;</nick>`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := encodeTokens(t, joinPresence(occ, &tt.opts))
			if !strings.HasPrefix(got, "<presence") {
				t.Errorf("not a presence: %s", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("presence %s lacks %s", got, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("presence %s has %s", got, w)
				}
			}
		})
	}
}
