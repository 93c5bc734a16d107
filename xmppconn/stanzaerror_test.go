package xmppconn_test

import (
	"errors"
	"testing"

	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/xmppconn"
)

func TestParseStanzaError(t *testing.T) {
	jitsiLobby := xmppconn.AppCondition{Space: "http://jitsi.org/jitmeet", Local: "displayname-required"}
	tests := []struct {
		name      string
		elem      string
		typ       stanza.ErrorType
		condition stanza.Condition
		text      string
		by        string
		app       error // an AppCondition it carries, if any
		wantErr   bool
	}{
		{
			name: "application condition (Jitsi's lobby)",
			elem: `<presence xmlns='jabber:client' from='lobby1@conference.d/bot' type='error'>
<error type='modify' by='lobby1@conference.d'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
<displayname-required xmlns='http://jitsi.org/jitmeet' lobby='true'/></error></presence>`,
			typ: stanza.Modify, condition: stanza.NotAcceptable, by: "lobby1@conference.d", app: jitsiLobby,
		},
		{
			name: "with text",
			elem: `<presence xmlns='jabber:client' type='error'><error type='auth'>
<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Password required</text></error></presence>`,
			typ: stanza.Auth, condition: stanza.NotAuthorized, text: "Password required",
		},
		{
			name: "text before the condition",
			elem: `<iq xmlns='jabber:client' type='error'><error type='cancel'>
<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no</text><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
			typ: stanza.Cancel, condition: stanza.ServiceUnavailable, text: "no",
		},
		{
			name:      "no defined condition",
			elem:      `<iq xmlns='jabber:client' type='error'><error type='cancel'><oops xmlns='urn:example'/></error></iq>`,
			typ:       stanza.Cancel,
			condition: stanza.UndefinedCondition,
			app:       xmppconn.AppCondition{Space: "urn:example", Local: "oops"},
		},
		{name: "error stanza without <error/>", elem: `<presence xmlns='jabber:client' type='error'/>`, wantErr: true},
		{name: "malformed", elem: `<presence xmlns='jabber:client' type='error'><error>`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := xmppconn.ParseStanzaError([]byte(tt.elem))
			if tt.wantErr {
				var pe *xmppconn.ProtocolError
				if !errors.As(err, &pe) {
					t.Fatalf("error = %v, want a *ProtocolError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseStanzaError: %v", err)
			}
			if got.Type() != tt.typ || got.Condition() != tt.condition || got.Text() != tt.text || got.Err.By.String() != tt.by {
				t.Errorf("got type %q condition %q text %q by %q; want %q %q %q %q",
					got.Type(), got.Condition(), got.Text(), got.Err.By.String(), tt.typ, tt.condition, tt.text, tt.by)
			}
			if !errors.Is(got, stanza.Error{Condition: tt.condition}) || !errors.Is(got, stanza.Error{Type: tt.typ}) {
				t.Error("errors.Is does not match the stanza.Error of its condition and type")
			}
			if errors.Is(got, stanza.Error{Condition: stanza.Conflict}) {
				t.Error("errors.Is matches another condition")
			}
			if tt.app != nil && !errors.Is(got, tt.app) {
				t.Errorf("errors.Is(%v) = false, want true", tt.app)
			}
			if tt.app == nil && errors.Is(got, jitsiLobby) {
				t.Error("matches an application condition it does not carry")
			}
		})
	}
}
