package events

import "encoding/json"

// Event is a connection event: one of the payload types of this package
// (Established, Failed, Disconnected, Redirected, TokenExpired, DisplayName,
// Properties, StateChange). Type tells which; a type switch gets the payload.
type Event interface {
	Type() Type
}

// Established is the payload of ConnectionEstablished: the session is
// authenticated and bound, or was resumed.
type Established struct {
	ID      string `json:"id"`      // the resource bound
	JID     string `json:"jid"`     // the full JID
	Resumed bool   `json:"resumed"` // true after a XEP-0198 resume
}

// Type returns ConnectionEstablished.
func (Established) Type() Type { return ConnectionEstablished }

// Failed is the payload of ConnectionFailed: an attempt cannot succeed, or a
// live session is lost for good. It is also an error that wraps Cause (see
// Error and Unwrap). Return it by value: errors.As(err, &f) then works with
// var f Failed.
type Failed struct {
	Err         ErrorType `json:"error"`
	Reason      string    `json:"reason"`                // server text or condition; never a secret
	Credentials string    `json:"credentials,omitempty"` // the JID only, never a secret
	Details     Details   `json:"details"`
	Cause       error     `json:"-"` // the underlying error, if any
}

// Type returns ConnectionFailed.
func (Failed) Type() Type { return ConnectionFailed }

// Details tells a program what it needs to decide about a failure.
type Details struct {
	ShardChanged           bool   `json:"shard_changed"`
	SuspendTimeMS          int64  `json:"suspend_time_ms"`
	TimeSinceLastSuccessMS int64  `json:"time_since_last_success_ms"`
	Condition              string `json:"condition"` // stream error, SASL or BOSH terminate condition
	HTTPStatus             int    `json:"http_status"`
	WSCloseCode            int    `json:"ws_close_code"`
}

// Disconnected is the payload of ConnectionDisconnected, sent only after the
// user asked to disconnect.
type Disconnected struct {
	Message string `json:"message"`
}

// Type returns ConnectionDisconnected.
func (Disconnected) Type() Type { return ConnectionDisconnected }

// Redirect kinds, the values of Redirected.Kind.
const (
	RedirectSeeOtherHost = "see-other-host" // RFC 6120 see-other-host stream error
	RedirectSeeOtherURI  = "see-other-uri"  // RFC 7395 <close see-other-uri>, BOSH terminate
	RedirectHTTP         = "http"           // HTTP 3xx on the endpoint
	RedirectVnode        = "vnode"          // Jitsi visitor node; reported, not followed
)

// Redirected is the payload of ConnectionRedirected.
type Redirected struct {
	Target   string `json:"target"`              // the new endpoint, host or domain
	Kind     string `json:"kind"`                // one of the Redirect* constants
	Followed bool   `json:"followed"`            // whether the client followed it
	FocusJID string `json:"focus_jid,omitempty"` // Jitsi focus, for a vnode redirect
}

// Type returns ConnectionRedirected.
func (Redirected) Type() Type { return ConnectionRedirected }

// TokenExpired is the payload of ConnectionTokenExpired.
type TokenExpired struct {
	Expires string `json:"expires"` // RFC 3339; empty when unknown
}

// Type returns ConnectionTokenExpired.
func (TokenExpired) Type() Type { return ConnectionTokenExpired }

// DisplayName is the payload of DisplayNameRequired.
type DisplayName struct {
	Lobby string `json:"lobby"` // the lobby (room or component) that asks
}

// Type returns DisplayNameRequired.
func (DisplayName) Type() Type { return DisplayNameRequired }

// Properties is the payload of PropertiesUpdated: the server's properties,
// identity type to name (for example "shard" to "jvb-shard-1"). Its JSON form
// is always an object, {} when there are none.
type Properties struct {
	Properties map[string]string `json:"properties"`
}

// Type returns PropertiesUpdated.
func (Properties) Type() Type { return PropertiesUpdated }

// MarshalJSON encodes p with "properties" as an object, never null.
func (p Properties) MarshalJSON() ([]byte, error) {
	type plain Properties // no MarshalJSON method: no recursion
	if p.Properties == nil {
		p.Properties = map[string]string{}
	}
	return json.Marshal(plain(p))
}

// StateChange is the payload of StateChanged. Entering DISCONNECTED,
// RECONNECTING or FAILED it also says why: the error type and reason of the
// loss or of the attempt that failed, the number of the attempt, and the
// wait before the next one (omitted from JSON when zero).
type StateChange struct {
	State State `json:"state"` // the new state
	From  State `json:"from"`  // the state left

	// Err is the error type of what caused the move (a lost stream, a
	// failed attempt); empty when nothing failed.
	Err ErrorType `json:"error,omitempty"`
	// Reason is the server's text or the condition of that failure, never a
	// secret.
	Reason string `json:"reason,omitempty"`
	// Attempt is the number of the recovery attempt: the one that starts
	// (entering RECONNECTING, or CONNECTING again) or the one that failed
	// (entering DISCONNECTED); 0 for the loss of a live stream.
	Attempt int `json:"attempt,omitempty"`
	// NextDelayMS is the wait, in milliseconds, before the next attempt
	// (entering DISCONNECTED, or FAILED when the first Connect is retried).
	NextDelayMS int64 `json:"next_delay_ms,omitempty"`
}

// Type returns StateChanged.
func (StateChange) Type() Type { return StateChanged }
