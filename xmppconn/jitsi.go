package xmppconn

import (
	"context"
	"encoding/xml"
	"errors"
	"strings"
	"sync"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/events"
)

// JitsiConfig configures what a Connection does for a Jitsi Meet deployment:
// the conference request to the focus and the properties query. Its zero
// value suits a standard deployment.
type JitsiConfig struct {
	// Focus is the JID that ConferenceRequest sends to (Jicofo's
	// component). Default: focus.<domain>.
	Focus string

	// MachineUID is the machine-uid of conference requests. Default: a
	// random value, fixed for the life of the Connection.
	MachineUID string

	// RetryMin and RetryMax bound the exponential backoff between
	// conference requests that the focus answers with ready='false': RetryMin,
	// then twice as long each time, at most RetryMax. Default 1 s and 120 s,
	// as lib-jitsi-meet.
	RetryMin, RetryMax time.Duration

	// NoPropertiesQuery keeps the client from asking the domain for its
	// properties (disco#info) when the server pushed none before CONNECTED.
	NoPropertiesQuery bool

	// GracefulShardMove says that the bot reconnects by itself when the
	// deployment moves it to another shard: a moved shard then ends the
	// session with connection.shardChangedError, instead of
	// connection.otherError with shard_changed in the details.
	GracefulShardMove bool

	// ShardCheckInterval is the base interval of the WebSocket shard check,
	// an HTTP GET of the endpoint's http(s) form whose x-jitsi-shard header
	// names the shard that answers; each check waits this long plus up to as
	// much again. Checks run only while a shard is known (from the
	// properties or the header). Default 60 s; negative: no checks. BOSH
	// needs none: every response carries the header.
	ShardCheckInterval time.Duration
}

// Defaults of JitsiConfig.
const (
	DefaultConferenceRetryMin = time.Second
	DefaultConferenceRetryMax = 120 * time.Second
)

// Namespaces of the Jitsi semantics.
const (
	nsDiscoInfo = "http://jabber.org/protocol/disco#info"
	nsExtDisco  = "urn:xmpp:extdisco:2"
	nsFocus     = "http://jitsi.org/protocol/focus"
	nsJitMeet   = "http://jitsi.org/jitmeet"
	nsMUC       = "http://jabber.org/protocol/muc"
	nsMUCUser   = "http://jabber.org/protocol/muc#user"
	nsNick      = "http://jabber.org/protocol/nick"
)

// idPrefix marks the ids of the stanzas the Jitsi helpers send.
const idPrefix = "xmppconn-jitsi-"

// sendTimeout bounds the hand-over of a stanza to the session when the
// caller has no context of its own (the hooks).
const sendTimeout = 5 * time.Second

// errConnectionEnded is returned to a call waiting for an answer when the
// connection ends (FAILED or CLOSED) first.
var errConnectionEnded = errors.New("xmppconn: connection ended before the answer came")

// jitsiState is what a Connection keeps of a Jitsi deployment: the server's
// properties, the IQs sent by this package's helpers and the room joins in
// progress. It has its own lock: never take c.mu while holding it.
type jitsiState struct {
	once sync.Once // registers the state listener

	mu       sync.Mutex
	props    map[string]string     // server properties, identity type -> name; nil until learned
	services []Service             // XEP-0215 services of the last push
	pushed   bool                  // a properties push came since the last established()
	uid      string                // machine-uid, made on first use
	pending  map[string]*pendingIQ // id -> an IQ waiting for its answer
	joins    map[string]*roomJoin  // bare room JID -> a join waiting for its self-presence
	life     chan struct{}         // closed when the connection ends (FAILED or CLOSED)
}

// pendingIQ is an IQ sent by this package, waiting for its answer.
type pendingIQ struct {
	to     jid.JID
	answer func(r root, elem []byte) // called once, on the processor; must not block
}

// lifeLocked returns the channel closed when the connection ends.
func (s *jitsiState) lifeLocked() chan struct{} {
	if s.life == nil {
		s.life = make(chan struct{})
	}
	return s.life
}

// jitsiStart prepares the state for a session that just became CONNECTED:
// calls waiting from now on wait on a fresh life channel.
func (c *Connection) jitsiStart() {
	c.jitsi.mu.Lock()
	defer c.jitsi.mu.Unlock()
	select {
	case <-c.jitsi.lifeLocked():
		c.jitsi.life = make(chan struct{})
	default:
	}
}

// watchEnd makes sure the calls waiting on the life channel are woken when
// the connection ends. The listener is added by the first call that waits,
// not at every connect: events nobody listens to cost nothing. A connection
// that already ended wakes them at once.
func (c *Connection) watchEnd() {
	c.jitsi.once.Do(func() {
		c.em.On(events.StateChanged, c.jitsiStateChanged)
	})
	c.jitsiStateChanged(events.StateChange{State: c.State()})
}

// jitsiStateChanged wakes the calls that wait for an answer when the
// connection has ended. It runs on the emitter's goroutine, so it checks the
// current state rather than trusting an event that may be stale.
func (c *Connection) jitsiStateChanged(e events.Event) {
	sc, ok := e.(events.StateChange)
	if !ok || (sc.State != events.StateFailed && sc.State != events.StateClosed) {
		return
	}
	if st := c.State(); st != events.StateFailed && st != events.StateClosed {
		return
	}
	c.jitsi.mu.Lock()
	defer c.jitsi.mu.Unlock()
	life := c.jitsi.lifeLocked()
	select {
	case <-life:
	default:
		close(life)
	}
	c.jitsi.pending = nil
	c.jitsi.joins = nil
}

// forgetLocked drops the pending IQ id, and the map once it is empty: an
// idle session should not keep one.
func (j *jitsiState) forgetLocked(id string) {
	delete(j.pending, id)
	if len(j.pending) == 0 {
		j.pending = nil
	}
}

// sendIQ sends an IQ get or set to to and arranges for answer to be called
// with the reply (result or error) on the processor. It returns the IQ's id
// (for forgetIQ) and the channel closed if the connection ends first.
func (c *Connection) sendIQ(ctx context.Context, typ stanza.IQType, to jid.JID, payload xml.TokenReader, answer func(root, []byte)) (string, <-chan struct{}, error) {
	id := idPrefix + newID()
	c.jitsi.mu.Lock()
	if c.jitsi.pending == nil {
		c.jitsi.pending = make(map[string]*pendingIQ)
	}
	c.jitsi.pending[id] = &pendingIQ{to: to, answer: answer}
	life := c.jitsi.lifeLocked()
	c.jitsi.mu.Unlock()

	if err := c.Send(ctx, stanza.IQ{ID: id, To: to, Type: typ}.Wrap(payload)); err != nil {
		c.forgetIQ(id)
		return "", nil, err
	}
	return id, life, nil
}

// forgetIQ stops waiting for the answer to the IQ with id.
func (c *Connection) forgetIQ(id string) {
	c.jitsi.mu.Lock()
	c.jitsi.forgetLocked(id)
	c.jitsi.mu.Unlock()
}

// exchangeIQ sends an IQ and waits for its answer, the end of ctx, or the
// end of the connection. It returns the answer's root and bytes.
func (c *Connection) exchangeIQ(ctx context.Context, typ stanza.IQType, to jid.JID, payload xml.TokenReader) (root, []byte, error) {
	type reply struct {
		r    root
		elem []byte
	}
	ch := make(chan reply, 1)
	c.watchEnd()
	id, life, err := c.sendIQ(ctx, typ, to, payload, func(r root, elem []byte) {
		ch <- reply{r, elem}
	})
	if err != nil {
		return root{}, nil, err
	}
	select {
	case rep := <-ch:
		return rep.r, rep.elem, nil
	case <-ctx.Done():
		c.forgetIQ(id)
		return root{}, nil, ctx.Err()
	case <-life:
		return root{}, nil, errConnectionEnded
	}
}

// answerIQ hands an IQ result or error to the call waiting for it, and
// reports whether there was one. The answer must come from the JID the IQ
// went to (or, for the account and its server, without a from).
func (c *Connection) answerIQ(r root, elem []byte) bool {
	id := r.attr("id")
	if !strings.HasPrefix(id, idPrefix) {
		return false
	}
	self := c.JID()
	c.jitsi.mu.Lock()
	p := c.jitsi.pending[id]
	if p == nil || !answeredBy(r.attr("from"), p.to, self) {
		c.jitsi.mu.Unlock()
		return false
	}
	c.jitsi.forgetLocked(id)
	c.jitsi.mu.Unlock()
	p.answer(r, elem)
	return true
}

// answeredBy reports whether an answer from from may come from to: the same
// JID, or no from when to is the account itself or its server (RFC 6120
// §8.1.2.1).
func answeredBy(from string, to, self jid.JID) bool {
	if from == "" {
		return to.Equal(self.Bare()) || to.Equal(self.Domain())
	}
	j, err := jid.Parse(from)
	return err == nil && j.Equal(to)
}

// isDomain reports whether from is the bare domain of the session.
func isDomain(from string, self jid.JID) bool {
	if from == "" || strings.ContainsAny(from, "@/") {
		return false // not a bare domain: no need to parse it
	}
	if self.Domainpart() == "" {
		return false
	}
	j, err := jid.Parse(from)
	return err == nil && j.Equal(self.Domain())
}

// element returns the tokens of <local xmlns=space attr...>children</local>.
// An empty space inherits the namespace of the parent.
func element(space, local string, attr []xml.Attr, children ...xml.TokenReader) xml.TokenReader {
	return xmlstream.Wrap(xmlstream.MultiReader(children...), xml.StartElement{
		Name: xml.Name{Space: space, Local: local},
		Attr: attr,
	})
}

// attrs builds unqualified attributes from name, value pairs, leaving out
// those whose value is empty.
func attrs(pairs ...string) []xml.Attr {
	out := make([]xml.Attr, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			out = append(out, xml.Attr{Name: xml.Name{Local: pairs[i]}, Value: pairs[i+1]})
		}
	}
	return out
}

// text returns the tokens of character data.
func text(s string) xml.TokenReader {
	return xmlstream.Token(xml.CharData(s))
}
