package xmppconn

import (
	"context"
	"encoding/xml"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/xmppconn/xmppconn/events"
)

// Extension is how a package built on top of the Connection (the Jitsi
// layer, multi-user chat) joins its lifecycle, in the manner of
// net/http/httptrace.ClientTrace: a set of optional callbacks. Every field
// may be nil. Callbacks run on goroutines of the Connection, never while it
// holds a lock, and must not block: an extension hands longer work to Go.
//
// Besides the callbacks an extension uses the Connection's public methods:
// Send and SendIQ to talk to the server, Go to run work that ends with the
// stream, Emit to report events in order with the Connection's own, Fail to
// end the session for a reason found above the transport, and Ended to stop
// waiting when the connection is over.
type Extension struct {
	// Inbound sees every stanza the server sends on the session, in order,
	// before Config.Handler does; the stanzas that arrived during
	// negotiation are seen once the session is up, before Up runs. It runs
	// on the Connection's processor, so it must return quickly. The stanza
	// still goes to the Handler afterwards.
	Inbound func(Stanza)

	// HTTPResponse sees the status and headers of every HTTP response of
	// the endpoint: each BOSH response and the WebSocket upgrade, during
	// negotiation too. It runs on the transport's goroutine: it must not
	// block, call the Connection, or keep or change header.
	HTTPResponse func(status int, header http.Header)

	// Up runs after each transition to CONNECTED (resumed tells whether the
	// XEP-0198 session was resumed rather than bound anew), on the
	// goroutine that made the transition, after Inbound saw the stanzas
	// that came during negotiation.
	Up func(resumed bool)

	// Down runs when the live stream goes away, whatever the reason (lost,
	// failed, moved to a new stream, closed by Disconnect): an extension
	// stops its timers here (what it started with Go sees its context end).
	// It must not call Connection methods that block.
	Down func()
}

// Stanza is a stanza of the session as an extension sees it: its start tag
// and its bytes.
type Stanza struct {
	// Start is the stanza's start tag: its name (in the jabber:client
	// namespace) and attributes.
	Start xml.StartElement
	// Raw is the whole stanza, self-contained (every namespace it uses is
	// declared on it). It is shared: read it, never change or keep it.
	Raw []byte
}

// Attr returns the value of the stanza's unqualified attribute local, or "".
func (s Stanza) Attr(local string) string { return root{s.Start}.attr(local) }

// extensions is the list of a Connection's extensions. Reading it is a
// single atomic load, so that a Connection without extensions pays nothing
// per stanza for the mechanism.
type extensions struct {
	mu   sync.Mutex // serialises changes
	list atomic.Pointer[[]*Extension]
}

func (xs *extensions) load() []*Extension {
	if p := xs.list.Load(); p != nil {
		return *p
	}
	return nil
}

// Extend adds the callbacks of x to the Connection and returns the function
// that removes them again. Extend a Connection before Connect: a session that
// is already up is not announced to x with Up.
func (c *Connection) Extend(x Extension) (remove func()) {
	p := &x
	c.exts.mu.Lock()
	c.exts.list.Store(ptr(append(slices.Clone(c.exts.load()), p)))
	c.exts.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			c.exts.mu.Lock()
			defer c.exts.mu.Unlock()
			list := slices.DeleteFunc(slices.Clone(c.exts.load()), func(e *Extension) bool { return e == p })
			c.exts.list.Store(&list)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// inbound shows an inbound stanza to the extensions.
func (xs *extensions) inbound(r root, elem []byte) {
	for _, x := range xs.load() {
		if x.Inbound != nil {
			x.Inbound(Stanza{Start: r.StartElement, Raw: elem})
		}
	}
}

// httpResponse shows an HTTP response of the endpoint to the extensions.
func (xs *extensions) httpResponse(status int, header http.Header) {
	for _, x := range xs.load() {
		if x.HTTPResponse != nil {
			x.HTTPResponse(status, header)
		}
	}
}

// up tells the extensions that the session is CONNECTED.
func (xs *extensions) up(resumed bool) {
	for _, x := range xs.load() {
		if x.Up != nil {
			x.Up(resumed)
		}
	}
}

// down tells the extensions that the live stream went away.
func (xs *extensions) down() {
	for _, x := range xs.load() {
		if x.Down != nil {
			x.Down()
		}
	}
}

// Go runs f on a goroutine of the Connection, if a session is live: f gets
// a context that ends when the live stream goes away (lost, failed, moved,
// closed), and Disconnect waits for f to return. It reports whether f was
// started. Extensions run their work this way (a query whose answer they
// wait for, a periodic check), so that it never outlives the Connection.
func (c *Connection) Go(f func(stream context.Context)) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.link
	if c.closing || l == nil {
		return false
	}
	// While a stream is live its loops hold counts in c.loops: this Add
	// cannot race with a wait that reached zero.
	ctx := l.context()
	c.spawn(func() { f(ctx) })
	return true
}

// Emit queues e on the Connection's event stream: listeners get it in order
// with the Connection's own events, one at a time. It is for extensions that
// report what they learn (the Jitsi layer's PropertiesUpdated, say); a
// StateChanged emitted here does not change the state.
func (c *Connection) Emit(e events.Event) {
	c.mu.Lock()
	c.em.Emit(e)
	c.mu.Unlock()
}
