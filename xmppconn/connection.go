package xmppconn

import (
	"context"
	"encoding/xml"
	"log/slog"
	"sync"
	"time"

	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/transport"
)

// Connection is one XMPP client connection and its lifecycle. Create it with
// New; a new Connection is in state CLOSED. Its methods are safe for
// concurrent use.
type Connection struct {
	cfg    Config
	log    *slog.Logger
	em     events.Emitter
	states events.Machine

	// mu guards the fields below and every state transition, so that a
	// transition and the events that go with it are queued atomically.
	mu      sync.Mutex
	conn    transport.Conn
	sess    *xmpp.Session
	pipe    *stanzaPipe
	jid     jid.JID
	cancel  context.CancelFunc // cancels the attempt in progress
	attempt chan struct{}      // closed when the attempt in progress ends
	loops   sync.WaitGroup     // read loop and session serve loop
	closing bool               // Disconnect was called
	started time.Time          // start of the current Connect
	lastUp  time.Time          // last time the session became CONNECTED
	writeMu sync.Mutex         // one writer on the transport at a time
}

// New returns a Connection for cfg, in state CLOSED. No I/O happens until
// Connect.
func New(cfg Config) *Connection {
	c := &Connection{cfg: cfg, log: cfg.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.em.OnPanic = func(t events.Type, v any) {
		c.log.Error("xmppconn: event listener panicked", "event", string(t), "panic", v)
	}
	return c
}

// State returns the connection's current state.
func (c *Connection) State() events.State { return c.states.State() }

// JID returns the full JID bound to the session, or the zero JID when no
// session was bound yet.
func (c *Connection) JID() jid.JID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.jid
}

// Session returns the negotiated mellium session for higher-level XEPs, or
// nil when the connection is not up. Do not call its Serve or Close: the
// Connection owns them.
func (c *Connection) Session() *xmpp.Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

// On adds a listener for one event type and returns the handle that removes
// it. Listeners run one at a time, in order, on a goroutine of the
// Connection, never while it holds a lock.
func (c *Connection) On(t events.Type, l events.Listener) events.Handle { return c.em.On(t, l) }

// OnAny adds a listener for every event type.
func (c *Connection) OnAny(l events.Listener) events.Handle { return c.em.OnAny(l) }

// Off removes the listener added with handle h.
func (c *Connection) Off(h events.Handle) bool { return c.em.Off(h) }

// Subscribe returns a channel subscription to the given event types (all
// when none are given). Close it when done.
func (c *Connection) Subscribe(types ...events.Type) *events.Subscription {
	return c.em.Subscribe(types...)
}

// Flush waits until every event emitted so far has been delivered to the
// listeners and subscriptions. Do not call it from a listener.
func (c *Connection) Flush(ctx context.Context) error { return c.em.Flush(ctx) }

// Send sends a stanza (as tokens) on the session.
func (c *Connection) Send(ctx context.Context, r xml.TokenReader) error {
	s := c.Session()
	if s == nil {
		return errSessionNotReady
	}
	return s.Send(ctx, r)
}

// SendElement sends an element built from start and the payload r.
func (c *Connection) SendElement(ctx context.Context, r xml.TokenReader, start xml.StartElement) error {
	s := c.Session()
	if s == nil {
		return errSessionNotReady
	}
	return s.SendElement(ctx, r, start)
}

// transitionLocked moves to state to and queues the stateChanged event. An
// illegal transition is a bug: it is logged and refused.
func (c *Connection) transitionLocked(to events.State) bool {
	ch, err := c.states.Transition(to)
	if err != nil {
		c.log.Error("xmppconn: illegal state transition", "err", err)
		return false
	}
	c.em.Emit(ch)
	return true
}
