package events

import "sync"

// Machine holds the state of one connection and enforces the transition table
// of CanTransition. The zero value is a Machine in StateClosed. It is safe for
// concurrent use; it must not be copied after first use.
type Machine struct {
	mu    sync.Mutex
	state State
}

// State returns the current state.
func (m *Machine) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state
}

// Transition moves the machine to the state to and returns the StateChange
// event that reports it, for the caller to emit. When the move is not legal
// from the current state, it returns a *TransitionError and leaves the state
// as it was. Concurrent calls are serialized: of two goroutines asking for the
// same move, one wins and the other gets the error.
func (m *Machine) Transition(to State) (StateChange, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	from := m.state
	if !CanTransition(from, to) {
		return StateChange{}, &TransitionError{From: from, To: to}
	}
	m.state = to
	return StateChange{State: to, From: from}, nil
}
