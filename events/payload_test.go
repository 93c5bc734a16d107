package events_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xmppconn/xmppconn/events"
)

// TestTypeStrings pins every event type string, in the order of Types().
func TestTypeStrings(t *testing.T) {
	want := []string{
		"connection.connectionEstablished",
		"connection.connectionFailed",
		"connection.connectionDisconnected",
		"connection.redirected",
		"connection.token_expired",
		"connection.display_name_required",
		"connection.propertiesUpdated",
		"connection.stateChanged",
	}
	var got []string
	for _, ty := range events.Types() {
		got = append(got, ty.String())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Types() strings (-want +got):\n%s", diff)
	}
	consts := []events.Type{
		events.ConnectionEstablished, events.ConnectionFailed, events.ConnectionDisconnected,
		events.ConnectionRedirected, events.ConnectionTokenExpired, events.DisplayNameRequired,
		events.PropertiesUpdated, events.StateChanged,
	}
	if !slices.Equal(consts, events.Types()) {
		t.Errorf("Types() = %v, want the constants in order %v", events.Types(), consts)
	}
}

// TestErrorTypeStrings pins every error type string.
func TestErrorTypeStrings(t *testing.T) {
	tests := []struct {
		et   events.ErrorType
		want string
	}{
		{events.DroppedError, "connection.droppedError"},
		{events.OtherError, "connection.otherError"},
		{events.PasswordRequired, "connection.passwordRequired"},
		{events.ServerError, "connection.serverError"},
		{events.NotLiveError, "connection.notLiveError"},
		{events.ConferenceRequestFailed, "connection.conferenceRequestFailed"},
		{events.ShardChangedError, "connection.shardChangedError"},
	}
	all := events.ErrorTypes()
	if len(all) != len(tests) {
		t.Fatalf("ErrorTypes() has %d, %d pinned", len(all), len(tests))
	}
	for i, tt := range tests {
		if all[i] != tt.et {
			t.Errorf("ErrorTypes()[%d] = %v, want %v", i, all[i], tt.et)
		}
		if tt.et.String() != tt.want || tt.et.Error() != tt.want {
			t.Errorf("%v: String %q Error %q, want %q", tt.et, tt.et.String(), tt.et.Error(), tt.want)
		}
	}
}

func jsonKeys(t *testing.T, v any) (map[string]json.RawMessage, []string) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal(%T): %v", v, err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%T marshals to %s, not an object: %v", v, b, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return m, keys
}

// TestPayloads pins each payload's event type and JSON keys (design.md's
// events table; fields filled so that omitempty keys show).
func TestPayloads(t *testing.T) {
	tests := []struct {
		name string
		ev   events.Event
		typ  events.Type
		keys []string
	}{
		{"established", events.Established{ID: "r", JID: "u@d/r", Resumed: true},
			events.ConnectionEstablished, []string{"id", "jid", "resumed"}},
		{"failed", events.Failed{Err: events.OtherError, Reason: "x", Credentials: "u@d"},
			events.ConnectionFailed, []string{"credentials", "details", "error", "reason"}},
		{"disconnected", events.Disconnected{Message: "bye"},
			events.ConnectionDisconnected, []string{"message"}},
		{"redirected", events.Redirected{Target: "wss://b/xmpp", Kind: events.RedirectSeeOtherURI, Followed: true, FocusJID: "focus@d"},
			events.ConnectionRedirected, []string{"focus_jid", "followed", "kind", "target"}},
		{"token expired", events.TokenExpired{Expires: "2025-01-01T00:00:00Z"},
			events.ConnectionTokenExpired, []string{"expires"}},
		{"display name", events.DisplayName{Lobby: "lobby.d"},
			events.DisplayNameRequired, []string{"lobby"}},
		{"properties", events.Properties{Properties: map[string]string{"shard": "s1"}},
			events.PropertiesUpdated, []string{"properties"}},
		{"state change", events.StateChange{State: events.StateConnected, From: events.StateConnecting},
			events.StateChanged, []string{"from", "state"}},
	}
	if len(tests) != len(events.Types()) {
		t.Fatalf("%d payloads pinned for %d event types", len(tests), len(events.Types()))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ev.Type(); got != tt.typ {
				t.Errorf("Type() = %v, want %v", got, tt.typ)
			}
			_, keys := jsonKeys(t, tt.ev)
			if diff := cmp.Diff(tt.keys, keys); diff != "" {
				t.Errorf("JSON keys (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPayloadJSONValues(t *testing.T) {
	tests := []struct {
		name string
		ev   events.Event
		want string
	}{
		{"state change uses names", events.StateChange{State: events.StateReconnecting, From: events.StateConnected},
			`{"state":"RECONNECTING","from":"CONNECTED"}`},
		{"nil properties is an object", events.Properties{}, `{"properties":{}}`},
		{"properties", events.Properties{Properties: map[string]string{"region": "eu", "shard": "s1"}},
			`{"properties":{"region":"eu","shard":"s1"}}`},
		{"redirect without focus", events.Redirected{Target: "h", Kind: events.RedirectVnode},
			`{"target":"h","kind":"vnode","followed":false}`},
		{"failed without credentials, cause hidden", events.Failed{Err: events.DroppedError, Reason: "r", Cause: errors.New("secret")},
			`{"error":"connection.droppedError","reason":"r","details":{"shard_changed":false,"suspend_time_ms":0,"time_since_last_success_ms":0,"condition":"","http_status":0,"ws_close_code":0}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("json = %s\nwant   %s", b, tt.want)
			}
		})
	}

	var back events.StateChange
	if err := json.Unmarshal([]byte(`{"state":"FAILED","from":"CONNECTING"}`), &back); err != nil {
		t.Fatal(err)
	}
	if back != (events.StateChange{State: events.StateFailed, From: events.StateConnecting}) {
		t.Errorf("unmarshal = %+v", back)
	}
	if err := json.Unmarshal([]byte(`{"state":"failed"}`), &back); err == nil {
		t.Error("unmarshal of a lower-case state succeeded")
	}
}

// TestDetailsKeys pins the keys of Failed.Details.
func TestDetailsKeys(t *testing.T) {
	m, _ := jsonKeys(t, events.Failed{Details: events.Details{
		ShardChanged: true, SuspendTimeMS: 1, TimeSinceLastSuccessMS: 2,
		Condition: "system-shutdown", HTTPStatus: 503, WSCloseCode: 1006,
	}})
	_, keys := jsonKeys(t, m["details"])
	want := []string{"condition", "http_status", "shard_changed", "suspend_time_ms", "time_since_last_success_ms", "ws_close_code"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("details keys (-want +got):\n%s", diff)
	}
}

type causeError struct{ code int }

func (e *causeError) Error() string { return "sasl: failure" }

func TestFailedError(t *testing.T) {
	cause := &causeError{code: 7}
	var err error = events.Failed{Err: events.PasswordRequired, Reason: "not-authorized", Cause: cause}
	// Wrapped once more, as a caller would.
	wrapped := errors.Join(errors.New("connect"), err)

	if got, want := err.Error(), "connection.passwordRequired: not-authorized"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var f events.Failed
	if !errors.As(wrapped, &f) || f.Err != events.PasswordRequired {
		t.Errorf("errors.As(Failed) = %+v", f)
	}
	var ce *causeError
	if !errors.As(wrapped, &ce) || ce.code != 7 {
		t.Error("errors.As does not reach the cause")
	}
	if !errors.Is(wrapped, cause) {
		t.Error("errors.Is does not reach the cause")
	}
	if !errors.Is(wrapped, events.PasswordRequired) {
		t.Error("errors.Is(err, PasswordRequired) = false")
	}
	if errors.Is(wrapped, events.DroppedError) {
		t.Error("errors.Is(err, DroppedError) = true for a passwordRequired failure")
	}
	if errors.Is(wrapped, fs.ErrNotExist) {
		t.Error("errors.Is matches an unrelated error")
	}
	if errors.Unwrap(err) != cause {
		t.Error("Unwrap does not return Cause")
	}
}

func TestFailedErrorText(t *testing.T) {
	tests := []struct {
		name string
		f    events.Failed
		want string
	}{
		{"reason", events.Failed{Err: events.ServerError, Reason: "HTTP 503"}, "connection.serverError: HTTP 503"},
		{"cause when no reason", events.Failed{Err: events.DroppedError, Cause: errors.New("transport: eof")}, "connection.droppedError: transport: eof"},
		{"reason wins over cause", events.Failed{Err: events.DroppedError, Reason: "reset", Cause: errors.New("eof")}, "connection.droppedError: reset"},
		{"type alone", events.Failed{Err: events.NotLiveError}, "connection.notLiveError"},
		{"empty type is other", events.Failed{}, "connection.otherError"},
		{"credentials stay out", events.Failed{Err: events.PasswordRequired, Reason: "not-authorized", Credentials: "user@example.com"}, "connection.passwordRequired: not-authorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
	if !errors.Is(events.Failed{}, events.OtherError) {
		t.Error("a Failed without Err is not OtherError")
	}
}
