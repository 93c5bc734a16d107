package events_test

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/xmppconn/xmppconn/events"
)

// legal lists the transitions of design.md's table, written out one by one.
var legal = []struct{ from, to events.State }{
	{events.StateClosed, events.StateConnecting},
	{events.StateFailed, events.StateConnecting},
	{events.StateConnecting, events.StateConnected},
	{events.StateConnecting, events.StateFailed},
	{events.StateConnecting, events.StateClosing},
	{events.StateConnected, events.StateDisconnected},
	{events.StateConnected, events.StateReconnecting},
	{events.StateConnected, events.StateClosing},
	{events.StateDisconnected, events.StateReconnecting},
	{events.StateDisconnected, events.StateFailed},
	{events.StateDisconnected, events.StateClosing},
	{events.StateReconnecting, events.StateConnected},
	{events.StateReconnecting, events.StateDisconnected},
	{events.StateReconnecting, events.StateFailed},
	{events.StateReconnecting, events.StateClosing},
	{events.StateClosing, events.StateClosed},
}

func isLegal(from, to events.State) bool {
	for _, l := range legal {
		if l.from == from && l.to == to {
			return true
		}
	}
	return false
}

// pathTo is a legal way from CLOSED to each state.
var pathTo = map[events.State][]events.State{
	events.StateClosed:       nil,
	events.StateConnecting:   {events.StateConnecting},
	events.StateConnected:    {events.StateConnecting, events.StateConnected},
	events.StateFailed:       {events.StateConnecting, events.StateFailed},
	events.StateDisconnected: {events.StateConnecting, events.StateConnected, events.StateDisconnected},
	events.StateReconnecting: {events.StateConnecting, events.StateConnected, events.StateReconnecting},
	events.StateClosing:      {events.StateConnecting, events.StateClosing},
}

func machineIn(t *testing.T, s events.State) *events.Machine {
	t.Helper()
	m := new(events.Machine)
	for _, to := range pathTo[s] {
		if _, err := m.Transition(to); err != nil {
			t.Fatalf("reaching %v: %v", s, err)
		}
	}
	if got := m.State(); got != s {
		t.Fatalf("machine in %v, want %v", got, s)
	}
	return m
}

func TestStateNames(t *testing.T) {
	tests := []struct {
		s    events.State
		name string
	}{
		{events.StateClosed, "CLOSED"},
		{events.StateConnecting, "CONNECTING"},
		{events.StateConnected, "CONNECTED"},
		{events.StateReconnecting, "RECONNECTING"},
		{events.StateFailed, "FAILED"},
		{events.StateDisconnected, "DISCONNECTED"},
		{events.StateClosing, "CLOSING"},
	}
	if len(tests) != len(events.States()) {
		t.Fatalf("%d states pinned, States() has %d", len(tests), len(events.States()))
	}
	for i, tt := range tests {
		if events.States()[i] != tt.s {
			t.Errorf("States()[%d] = %v, want %v", i, events.States()[i], tt.s)
		}
		if got := tt.s.String(); got != tt.name {
			t.Errorf("String() = %q, want %q", got, tt.name)
		}
		text, err := tt.s.MarshalText()
		if err != nil || string(text) != tt.name {
			t.Errorf("MarshalText() = %q, %v; want %q", text, err, tt.name)
		}
		var back events.State
		if err := back.UnmarshalText([]byte(tt.name)); err != nil || back != tt.s {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", tt.name, back, err, tt.s)
		}
	}
	var zero events.State
	if zero != events.StateClosed {
		t.Errorf("zero State is %v, want CLOSED", zero)
	}
}

func TestStateBadText(t *testing.T) {
	if got := events.State(7).String(); got != "State(7)" {
		t.Errorf("State(7).String() = %q", got)
	}
	if _, err := events.State(200).MarshalText(); err == nil {
		t.Error("MarshalText of State(200) succeeded")
	}
	if _, err := json.Marshal(events.StateChange{State: 9}); err == nil {
		t.Error("json.Marshal of an unknown state succeeded")
	}
	for _, in := range []string{"", "closed", "Connected", " CLOSED", "CLOSED\x00", "State(1)"} {
		s := events.StateConnected
		err := s.UnmarshalText([]byte(in))
		if err == nil {
			t.Errorf("UnmarshalText(%q) succeeded", in)
		}
		if s != events.StateConnected {
			t.Errorf("UnmarshalText(%q) changed the state to %v", in, s)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "events: parse state") {
			t.Errorf("UnmarshalText(%q) error %q does not name the operation", in, err)
		}
	}
}

// TestCanTransition checks all 49 pairs: the 16 listed in legal, and no other.
func TestCanTransition(t *testing.T) {
	n := 0
	for _, from := range events.States() {
		for _, to := range events.States() {
			want := isLegal(from, to)
			if want {
				n++
			}
			t.Run(from.String()+"->"+to.String(), func(t *testing.T) {
				if got := events.CanTransition(from, to); got != want {
					t.Errorf("CanTransition(%v, %v) = %v, want %v", from, to, got, want)
				}
			})
		}
	}
	if n != len(legal) {
		t.Fatalf("%d legal pairs found among the states, %d listed", n, len(legal))
	}
	// Values outside the declared states go nowhere.
	if events.CanTransition(events.State(7), events.StateConnecting) ||
		events.CanTransition(events.StateClosed, events.State(255)) {
		t.Error("CanTransition accepts an undeclared state")
	}
}

// TestMachineTransition drives a Machine through every pair: legal moves
// succeed and report From/State, illegal ones fail with a *TransitionError and
// leave the state alone.
func TestMachineTransition(t *testing.T) {
	for _, from := range events.States() {
		for _, to := range events.States() {
			t.Run(from.String()+"->"+to.String(), func(t *testing.T) {
				m := machineIn(t, from)
				sc, err := m.Transition(to)
				if isLegal(from, to) {
					if err != nil {
						t.Fatalf("Transition: %v", err)
					}
					if want := (events.StateChange{State: to, From: from}); sc != want {
						t.Errorf("Transition = %+v, want %+v", sc, want)
					}
					if got := m.State(); got != to {
						t.Errorf("state %v after the move, want %v", got, to)
					}
					return
				}
				var te *events.TransitionError
				if !errors.As(err, &te) {
					t.Fatalf("Transition error = %v, want *TransitionError", err)
				}
				if te.From != from || te.To != to {
					t.Errorf("TransitionError = %+v, want From %v To %v", *te, from, to)
				}
				if msg := err.Error(); !strings.Contains(msg, from.String()) || !strings.Contains(msg, to.String()) {
					t.Errorf("error %q does not name both states", msg)
				}
				if sc != (events.StateChange{}) {
					t.Errorf("failed Transition returned %+v", sc)
				}
				if got := m.State(); got != from {
					t.Errorf("state %v after an illegal move, want %v unchanged", got, from)
				}
			})
		}
	}
}

// TestMachineConcurrent: of many goroutines asking for the same move, exactly
// one wins.
func TestMachineConcurrent(t *testing.T) {
	m := machineIn(t, events.StateConnecting)
	const n = 16
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			if _, err := m.Transition(events.StateConnected); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
			_ = m.State()
		})
	}
	close(start)
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d goroutines moved CONNECTING -> CONNECTED, want 1", wins)
	}
}
