package xmppconn

import (
	"context"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
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
	exts   extensions // what packages on top added with Extend (extension.go)
	iqs    iqWaits    // SendIQ requests waiting for their answers (iq.go)

	// boshClient is the BOSH client built from Config.TLSConfig, once,
	// so that reconnections reuse its connections (connect.go).
	boshOnce   sync.Once
	boshClient *http.Client
	// httpClient is HTTPClient's client built from Config.TLSConfig, once.
	httpOnce   sync.Once
	httpClient *http.Client

	// mu guards the fields below and every state transition, so that a
	// transition and the events that go with it are queued atomically.
	mu      sync.Mutex
	conn    transport.Conn // the transport of the live stream, nil while down
	link    *link          // the live stream, nil while down
	bound   bool           // a session exists: from the first CONNECTED to the end, across resumptions
	sess    *xmpp.Session  // made on the first call to Session, lives as long as the session
	pipe    *stanzaPipe
	secure  bool       // the session's first stream was encrypted (for the mellium session)
	disp    dispatcher // hands inbound stanzas to the Handler
	jid     jid.JID
	cancel  context.CancelFunc // cancels the attempt or the recovery in progress
	attempt chan struct{}      // closed when the Connect in progress ends
	closing bool               // Disconnect was called
	lastRx  time.Time          // last element received on a stream that is now down

	// loops counts the Connection's goroutines; Disconnect and Connect wait
	// for them (goroutines.go lists them all).
	loops loopGroup

	sendMu     sync.Mutex    // makes Send's queue check and encoding one step
	out        outbox        // the outbound path, across streams
	inH        atomic.Uint32 // XEP-0198: stanzas handled on this SM session
	inCounting atomic.Bool   // inbound stanzas are counted (<enabled/> or resumed)
	suspendMax atomic.Int64  // largest lateness of the liveness timer, ns
	agentID    string        // SASL2 user agent id, one per Connection
	// sasl2Broken is set once the server left SASL2 unanswered: RFC 6120
	// SASL from then on (sasl2_fallback.go).
	sasl2Broken atomic.Bool
	fast        fastState    // the XEP-0484 token held (fast.go)
	features    featuresMemo // the last stream features (featuresmemo.go)
	bounds      deadlines    // of the attempts and their waits (deadlines.go)
	jids        jidMemo      // the account's and the bound JID (jidmemo.go)
	keysHeld    atomic.Bool  // the SCRAM key cache is held (scramkeys.go)

	// route is the endpoint and token in use (redirect.go, token.go); it
	// has its own lock.
	route routeState

	// lastAttempt is the record of the last connect or recovery attempt
	// (phases.go).
	lastAttempt atomic.Pointer[attemptRecord]
}

// New returns a Connection for cfg, in state CLOSED. No I/O happens until
// Connect.
func New(cfg Config) *Connection {
	cfg = cfg.withDefaults()
	c := &Connection{cfg: cfg, agentID: newUserAgentID()}
	c.bounds.tick = cfg.Ping.Timeout
	c.log = slog.New(redactingHandler{next: cfg.Logger.Handler(), redact: c.redact})
	store := cfg.SASL2.FAST.Store
	if cfg.SASL2.FAST.Disabled {
		store = nil
	}
	c.fast.init(store, c.agentID, c.log)
	c.out.configure(c.cfg.StreamManagement, c.cfg.QueueLimit)
	c.em.OnPanic = func(t events.Type, v any) {
		c.log.Error("xmppconn: event listener panicked", "event", string(t), "panic", v)
	}
	return c
}

// Domain returns the XMPP domain of the connection: the bound JID's, else
// Config.Domain, else the host of Config.URL; "" when none can be told.
func (c *Connection) Domain() string {
	if d := c.JID().Domainpart(); d != "" {
		return d
	}
	d, _ := c.domain()
	return d
}

// Config returns the Connection's configuration, with every default
// filled in. Changing the copy changes nothing.
func (c *Connection) Config() Config { return c.cfg }

// Ended returns a channel that is closed when the connection ends, FAILED
// or CLOSED; Connect starts a new one. A call that waits for the server
// (SendIQ, a room join) stops waiting there.
func (c *Connection) Ended() <-chan struct{} {
	c.iqs.mu.Lock()
	defer c.iqs.mu.Unlock()
	return c.iqs.lifeLocked()
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
//
// The mellium session is made on the first call and lives as long as the
// session (across resumptions); from then on it runs Config.Handler, so
// that its SendIQ gets its answers. Connections that never call Session
// keep no mellium session, which saves an idle session about half its
// memory (docs/performance.md).
func (c *Connection) Session() *xmpp.Session {
	c.mu.Lock()
	if c.sess != nil || !c.bound || c.closing {
		s := c.sess
		c.mu.Unlock()
		return s
	}
	j, secure := c.jid, c.secure
	c.mu.Unlock()

	sess, pipe, err := c.newSession(j, secure)
	if err != nil {
		c.log.Error("xmppconn: mellium session", "err", err)
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.sess != nil: // another caller was first
		pipe.close()
		return c.sess
	case !c.bound || c.closing:
		pipe.close()
		return nil
	}
	c.sess, c.pipe = sess, pipe
	ready := c.disp.handOff(pipe)
	c.spawn(func() { c.serve(sess, ready) })
	return sess
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

// Send sends a stanza (as tokens) on the session. While the session is
// down (DISCONNECTED, RECONNECTING) the stanza is queued and sent once it is
// back; ErrQueueFull reports that Config.QueueLimit stanzas already wait.
// While StreamManagementConfig.MaxUnacked stanzas wait for the server's
// acknowledgement, Send waits for it (bounded by ctx); ErrNotConnected
// reports that the session ended meanwhile.
func (c *Connection) Send(ctx context.Context, r xml.TokenReader) error {
	return c.send(ctx, r, nil)
}

// send encodes one stanza (see encodeStanza) and sends it, or queues it
// while the session is down.
func (c *Connection) send(ctx context.Context, r xml.TokenReader, start *xml.StartElement) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if err := c.sendable(); err != nil {
		return err
	}
	elem, err := encodeStanza(r, start)
	if err != nil {
		return fmt.Errorf("xmppconn: send: %w", err)
	}
	return c.out.sendWait(ctx, elem)
}

// sendable reports why no stanza can be sent, or nil.
func (c *Connection) sendable() error {
	c.mu.Lock()
	bound := c.bound
	c.mu.Unlock()
	if !bound {
		return ErrNotConnected
	}
	if _, queued := c.out.pending(); queued >= c.cfg.QueueLimit {
		return ErrQueueFull
	}
	return nil
}

// SendElement sends an element built from start and the payload r.
func (c *Connection) SendElement(ctx context.Context, r xml.TokenReader, start xml.StartElement) error {
	return c.send(ctx, r, &start)
}

// transitionLocked moves to state to and queues the stateChanged event. An
// illegal transition is a bug: it is logged and refused.
func (c *Connection) transitionLocked(to events.State) bool {
	return c.moveLocked(to, events.StateChange{})
}

// moveLocked is transitionLocked with the cause of the move: the error type
// and reason, the attempt number and the next wait of why.
func (c *Connection) moveLocked(to events.State, why events.StateChange) bool {
	ch, err := c.states.Transition(to)
	if err != nil {
		c.log.Error("xmppconn: illegal state transition", "err", err)
		return false
	}
	ch.Err, ch.Reason, ch.Attempt, ch.NextDelayMS = why.Err, why.Reason, why.Attempt, why.NextDelayMS
	c.em.Emit(ch)
	return true
}

// causeLocked returns the error type and reason that a StateChange names
// for err, as ConnectionFailed would for a session that was up.
func (c *Connection) causeLocked(err error, st transport.Status, attempt int, next time.Duration) events.StateChange {
	f := c.failure(err, st, true)
	return events.StateChange{Err: f.Err, Reason: f.Reason, Attempt: attempt, NextDelayMS: next.Milliseconds()}
}
