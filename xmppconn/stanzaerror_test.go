package xmppconn

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseStanzaError(t *testing.T) {
	tests := []struct {
		name    string
		elem    string
		want    *stanzaError
		wantErr bool
	}{
		{
			name: "jitsi lobby: display name required",
			elem: `<presence xmlns='jabber:client' from='lobby1@conference.d/bot' type='error'>
<error type='modify' by='lobby1@conference.d'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
<displayname-required xmlns='http://jitsi.org/jitmeet' lobby='true'/></error></presence>`,
			want: &stanzaError{Type: "modify", Condition: "not-acceptable", DisplayNameRequired: true, Lobby: true},
		},
		{
			name: "password required, with text",
			elem: `<presence xmlns='jabber:client' type='error'><error type='auth'>
<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Password required</text></error></presence>`,
			want: &stanzaError{Type: "auth", Condition: "not-authorized", Text: "Password required"},
		},
		{
			name: "text before the condition",
			elem: `<iq xmlns='jabber:client' type='error'><error type='cancel'>
<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no</text><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
			want: &stanzaError{Type: "cancel", Condition: "service-unavailable", Text: "no"},
		},
		{
			name: "no known condition",
			elem: `<iq xmlns='jabber:client' type='error'><error type='cancel'><oops xmlns='urn:example'/></error></iq>`,
			want: &stanzaError{Type: "cancel", Condition: "undefined-condition"},
		},
		{
			name:    "error stanza without <error/>",
			elem:    `<presence xmlns='jabber:client' type='error'/>`,
			wantErr: true,
		},
		{
			name:    "malformed",
			elem:    `<presence xmlns='jabber:client' type='error'><error>`,
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStanzaError([]byte(tt.elem))
			if tt.wantErr {
				var pe *ProtocolError
				if !errors.As(err, &pe) {
					t.Fatalf("error = %v, want a *ProtocolError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseStanzaError: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
