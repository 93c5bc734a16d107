package events_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/xmppconn/xmppconn/events"
)

func ExampleEmitter_On() {
	var e events.Emitter
	e.On(events.StateChanged, func(ev events.Event) {
		sc := ev.(events.StateChange)
		fmt.Println(sc.From, "->", sc.State)
	})
	e.On(events.ConnectionEstablished, func(ev events.Event) {
		fmt.Println("established as", ev.(events.Established).JID)
	})

	var m events.Machine // CLOSED
	for _, to := range []events.State{events.StateConnecting, events.StateConnected} {
		sc, err := m.Transition(to)
		if err != nil {
			fmt.Println(err)
			return
		}
		e.Emit(sc)
	}
	e.Emit(events.Established{ID: "bot-1", JID: "bot@example.com/bot-1"})

	// Listeners run on the Emitter's goroutine; wait for them.
	if err := e.Flush(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// CLOSED -> CONNECTING
	// CONNECTING -> CONNECTED
	// established as bot@example.com/bot-1
}

func ExampleEmitter_Subscribe() {
	var e events.Emitter
	sub := e.Subscribe(events.ConnectionFailed)
	defer sub.Close()

	e.Emit(events.StateChange{State: events.StateFailed, From: events.StateConnecting})
	e.Emit(events.Failed{Err: events.PasswordRequired, Reason: "not-authorized", Credentials: "bot@example.com"})

	ev := <-sub.C
	err := ev.(events.Failed)
	fmt.Println(err)
	fmt.Println(errors.Is(err, events.PasswordRequired))
	// Output:
	// connection.passwordRequired: not-authorized
	// true
}

func ExampleMachine_Transition() {
	var m events.Machine
	if _, err := m.Transition(events.StateConnected); err != nil {
		fmt.Println(err)
	}
	sc, _ := m.Transition(events.StateConnecting)
	fmt.Println(sc.From, "->", sc.State)
	// Output:
	// events: illegal state transition from CLOSED to CONNECTED
	// CLOSED -> CONNECTING
}
