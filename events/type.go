package events

// Type is the type of a connection event. Its value is the exact string of the
// Jitsi vocabulary (for example "connection.connectionEstablished").
type Type string

// The event types, with the strings that name them everywhere (listeners, the
// CLI's "event" field, logs).
const (
	// ConnectionEstablished: authenticated and bound, or resumed; payload
	// Established.
	ConnectionEstablished Type = "connection.connectionEstablished"
	// ConnectionFailed: an attempt cannot succeed, or a live session is lost
	// for good; payload Failed.
	ConnectionFailed Type = "connection.connectionFailed"
	// ConnectionDisconnected: the connection closed after the user asked it
	// to; payload Disconnected.
	ConnectionDisconnected Type = "connection.connectionDisconnected"
	// ConnectionRedirected: the server sent the client elsewhere; payload
	// Redirected.
	ConnectionRedirected Type = "connection.redirected"
	// ConnectionTokenExpired: the token has expired or was refused as
	// expired; payload TokenExpired.
	ConnectionTokenExpired Type = "connection.token_expired"
	// DisplayNameRequired: the lobby wants a display name; payload
	// DisplayName.
	DisplayNameRequired Type = "connection.display_name_required"
	// PropertiesUpdated: server properties (shard, region, release) were
	// learned; payload Properties.
	PropertiesUpdated Type = "connection.propertiesUpdated"
	// StateChanged: the connection moved from one State to another; payload
	// StateChange.
	StateChanged Type = "connection.stateChanged"
)

// String returns the event type's string.
func (t Type) String() string { return string(t) }

// Types returns every event type, in the order of their declaration. The
// caller owns the returned slice.
func Types() []Type {
	return []Type{
		ConnectionEstablished,
		ConnectionFailed,
		ConnectionDisconnected,
		ConnectionRedirected,
		ConnectionTokenExpired,
		DisplayNameRequired,
		PropertiesUpdated,
		StateChanged,
	}
}
