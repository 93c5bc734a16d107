// Package events is the vocabulary of xmppconn: the connection event types and
// their payloads (the Jitsi JitsiConnectionEvents strings), the error types of
// a failed connection, the connection states with the one table of legal
// transitions between them (the VideoSDK meeting-state-changed names), and an
// Emitter that delivers the events of one connection to listeners in order, on
// a goroutine of its own. It is for code that reacts to a connection (bots,
// the CLI) and for the packages that report one; it does not connect, parse
// XML or know any transport, and it imports nothing else of this module.
//
// A listener sees the events of a connection one at a time, in order:
//
//	var e events.Emitter
//	e.On(events.StateChanged, func(ev events.Event) {
//		sc := ev.(events.StateChange)
//		fmt.Println(sc.From, "->", sc.State)
//	})
//	var m events.Machine // CLOSED
//	if sc, err := m.Transition(events.StateConnecting); err == nil {
//		e.Emit(sc) // prints CLOSED -> CONNECTING, on the Emitter's goroutine
//	}
//	e.Flush(ctx)
package events
