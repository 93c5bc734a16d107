package muc

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xmppconn/xmppconn/xmppconn"
	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

func TestJoinErrorIs(t *testing.T) {
	refusals := []error{ErrPasswordRequired, ErrMembersOnly, ErrBanned, ErrNicknameConflict}
	tests := []struct {
		name      string
		condition stanza.Condition
		want      error // the one refusal it matches, or nil
	}{
		{"password-protected room", stanza.NotAuthorized, ErrPasswordRequired},
		{"members-only room", stanza.RegistrationRequired, ErrMembersOnly},
		{"banned", stanza.Forbidden, ErrBanned},
		{"nick in use", stanza.Conflict, ErrNicknameConflict},
		{"room full", stanza.ServiceUnavailable, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error = &JoinError{Room: jid.MustParse("r@c.d"), Err: &xmppconn.StanzaError{Err: stanza.Error{Type: stanza.Cancel, Condition: tt.condition}}}
			for _, r := range refusals {
				if got := errors.Is(err, r); got != (r == tt.want) {
					t.Errorf("errors.Is(%v, %v) = %v", err, r, got)
				}
			}
			var je *JoinError
			if !errors.As(err, &je) {
				t.Error("errors.As to *JoinError failed")
			}
		})
	}
}

func TestJoinErrorText(t *testing.T) {
	e := &JoinError{Room: jid.MustParse("lobby1@conference.d"), Err: &xmppconn.StanzaError{Err: stanza.Error{
		Condition: stanza.NotAcceptable, Text: map[string]string{"": "set a name"},
	}}}
	want := "muc: join lobby1@conference.d: not-acceptable: set a name"
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
}

func TestParseUser(t *testing.T) {
	tests := []struct {
		name    string
		elem    string
		want    *user
		wantErr bool
	}{
		{
			name: "self-presence of a new room",
			elem: `<presence xmlns='jabber:client' from='r@c.d/bot'><x xmlns='http://jabber.org/protocol/muc#user'>
<item affiliation='owner' role='moderator'/><status code='110'/><status code='201'/></x></presence>`,
			want: &user{Affiliation: "owner", Role: "moderator", Statuses: []string{"110", "201"}},
		},
		{
			name: "another occupant",
			elem: `<presence xmlns='jabber:client' from='r@c.d/other'><x xmlns='http://jabber.org/protocol/muc#user'>
<item affiliation='none' role='participant'/></x></presence>`,
			want: &user{Affiliation: "none", Role: "participant"},
		},
		{
			name: "no muc#user payload",
			elem: `<presence xmlns='jabber:client' from='r@c.d/x'/>`,
			want: &user{},
		},
		{
			name:    "malformed",
			elem:    `<presence xmlns='jabber:client'><x xmlns='http://jabber.org/protocol/muc#user'>`,
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseUser([]byte(tt.elem))
			if tt.wantErr {
				if err == nil {
					t.Fatal("no error for malformed XML")
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
	occ := jid.MustParse("room@conference.d/bot")
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

// encodeTokens serializes tokens as the session's encoder would.
func encodeTokens(t *testing.T, r xml.TokenReader) string {
	t.Helper()
	var b strings.Builder
	e := xml.NewEncoder(&b)
	if _, err := xmlstream.Copy(e, r); err != nil {
		t.Fatalf("encode: %v", err)
	}
	if err := e.Flush(); err != nil {
		t.Fatalf("encode: %v", err)
	}
	return b.String()
}
