package events

import (
	"errors"
	"strconv"
)

// State is the state of a connection. The zero value is StateClosed: a new
// connection is CLOSED. Its text form (String, MarshalText) is the capitalized
// name, as in "CONNECTING".
type State uint8

// The connection states.
const (
	StateClosed       State = iota // CLOSED: not connected, nothing running
	StateConnecting                // CONNECTING: an attempt is under way
	StateConnected                 // CONNECTED: authenticated and bound
	StateReconnecting              // RECONNECTING: resuming or re-establishing a session
	StateFailed                    // FAILED: gave up; Connect may start over
	StateDisconnected              // DISCONNECTED: the session was lost, a retry may follow
	StateClosing                   // CLOSING: the user asked to disconnect
)

var stateNames = [...]string{
	StateClosed:       "CLOSED",
	StateConnecting:   "CONNECTING",
	StateConnected:    "CONNECTED",
	StateReconnecting: "RECONNECTING",
	StateFailed:       "FAILED",
	StateDisconnected: "DISCONNECTED",
	StateClosing:      "CLOSING",
}

// States returns every state, in the order of their declaration. The caller
// owns the returned slice.
func States() []State {
	return []State{
		StateClosed,
		StateConnecting,
		StateConnected,
		StateReconnecting,
		StateFailed,
		StateDisconnected,
		StateClosing,
	}
}

// Valid reports whether s is one of the declared states.
func (s State) Valid() bool { return int(s) < len(stateNames) }

// String returns the state's name in capitals ("CLOSED", "CONNECTING", ...),
// or "State(N)" for a value that is not a declared state.
func (s State) String() string {
	if !s.Valid() {
		return "State(" + strconv.Itoa(int(s)) + ")"
	}
	return stateNames[s]
}

// MarshalText returns the state's name in capitals. It fails for a value that
// is not a declared state.
func (s State) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, errors.New("events: marshal state: unknown state " + strconv.Itoa(int(s)))
	}
	return []byte(stateNames[s]), nil
}

// UnmarshalText sets s to the state named by text, which must be one of the
// names in capitals that String returns.
func (s *State) UnmarshalText(text []byte) error {
	v, err := ParseState(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseState returns the state named name, which must be one of the names in
// capitals that String returns ("CONNECTED", not "connected").
func ParseState(name string) (State, error) {
	for i, n := range stateNames {
		if n == name {
			return State(i), nil
		}
	}
	return 0, errors.New("events: parse state: unknown state " + strconv.Quote(name))
}

// transitions is the table of design.md, and nothing else: transitions[from]
// has bit 1<<to set when from -> to is legal.
var transitions = [...]uint8{
	StateClosed:       1 << StateConnecting,
	StateFailed:       1 << StateConnecting,
	StateConnecting:   1<<StateConnected | 1<<StateFailed | 1<<StateClosing,
	StateConnected:    1<<StateDisconnected | 1<<StateReconnecting | 1<<StateClosing,
	StateDisconnected: 1<<StateReconnecting | 1<<StateFailed | 1<<StateClosing,
	StateReconnecting: 1<<StateConnected | 1<<StateDisconnected | 1<<StateFailed | 1<<StateClosing,
	StateClosing:      1 << StateClosed,
}

// CanTransition reports whether a connection may move from one state to the
// other. The legal transitions are exactly these:
//
//	CLOSED, FAILED -> CONNECTING
//	CONNECTING     -> CONNECTED | FAILED | CLOSING
//	CONNECTED      -> DISCONNECTED | RECONNECTING | CLOSING
//	DISCONNECTED   -> RECONNECTING | FAILED | CLOSING
//	RECONNECTING   -> CONNECTED | DISCONNECTED | FAILED | CLOSING
//	CLOSING        -> CLOSED
//
// A state never transitions to itself, and a value that is not a declared
// state transitions nowhere.
func CanTransition(from, to State) bool {
	return from.Valid() && to.Valid() && transitions[from]&(1<<to) != 0
}

// TransitionError reports an illegal state transition.
type TransitionError struct {
	From, To State
}

// Error names both states.
func (e *TransitionError) Error() string {
	return "events: illegal state transition from " + e.From.String() + " to " + e.To.String()
}
