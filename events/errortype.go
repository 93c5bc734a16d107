package events

// ErrorType classifies a failed connection; it is the "error" of a
// ConnectionFailed event. Its value is the exact string of the Jitsi
// vocabulary (for example "connection.passwordRequired").
//
// ErrorType also implements error, so that errors.Is(err, PasswordRequired)
// reports whether err is (or wraps) a Failed of that type.
type ErrorType string

// The error types of a ConnectionFailed event.
const (
	// DroppedError: the session was up and could not be brought back.
	DroppedError ErrorType = "connection.droppedError"
	// OtherError: any failure no other type describes.
	OtherError ErrorType = "connection.otherError"
	// PasswordRequired: the server refused the credentials (or a token).
	PasswordRequired ErrorType = "connection.passwordRequired"
	// ServerError: the session was lost and the last HTTP status was 5xx.
	ServerError ErrorType = "connection.serverError"
	// NotLiveError: the conference is not live yet.
	NotLiveError ErrorType = "connection.notLiveError"
	// ConferenceRequestFailed: the conference request was refused.
	ConferenceRequestFailed ErrorType = "connection.conferenceRequestFailed"
	// ShardChangedError: the deployment moved the session to another shard.
	ShardChangedError ErrorType = "connection.shardChangedError"
)

// String returns the error type's string.
func (t ErrorType) String() string { return string(t) }

// Error returns the error type's string, so that an ErrorType can be the
// target of errors.Is.
func (t ErrorType) Error() string { return string(t) }

// ErrorTypes returns every error type, in the order of their declaration. The
// caller owns the returned slice.
func ErrorTypes() []ErrorType {
	return []ErrorType{
		DroppedError,
		OtherError,
		PasswordRequired,
		ServerError,
		NotLiveError,
		ConferenceRequestFailed,
		ShardChangedError,
	}
}
