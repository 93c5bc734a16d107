package muc

import (
	"context"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// Namespaces of XEP-0045 and XEP-0172.
const (
	NS     = "http://jabber.org/protocol/muc"
	NSUser = "http://jabber.org/protocol/muc#user"
	NSNick = "http://jabber.org/protocol/nick"
)

// JoinOptions are the optional parts of a join. The zero value joins without
// a password and without a display name, with the history the room sends by
// default.
type JoinOptions struct {
	// Password is the room password (XEP-0045 §7.2.6).
	Password string

	// DisplayName is the user's nickname in the XEP-0172 sense, sent as
	// <nick xmlns='http://jabber.org/protocol/nick'/> in the join presence:
	// the name people see (Jitsi Meet shows it, and its lobby may require
	// one), apart from the occupant nick of the room JID.
	DisplayName string

	// History limits the discussion history the room replays on joining.
	History History
}

// History limits the discussion history a room replays when it is joined
// (XEP-0045 §7.2.15). The zero value asks for the room's default. The
// limits combine: the room sends what meets all of them.
type History struct {
	// None asks for no history at all.
	None bool
	// MaxStanzas is the most messages to replay; 0: no limit of this kind.
	MaxStanzas int
	// MaxChars is the most characters of XML to replay; 0: no limit.
	MaxChars int
	// Since replays only messages sent after it; zero: no limit.
	Since time.Time
}

// Room is a room joined with Join.
type Room struct {
	JID         jid.JID // the room's bare JID
	Nick        string  // the nickname the room gave (it may differ from the one asked for)
	Affiliation string  // owner, admin, member or none
	Role        string  // moderator, participant or visitor
	Created     bool    // the join created the room (status 201)
}

// Config configures a Rooms. The zero value rejoins every room after a
// reconnect that could not resume, without reporting how it went.
type Config struct {
	// Rejoin configures the rejoining of rooms after a fresh session.
	Rejoin RejoinConfig
}

// RejoinConfig configures what Rooms does when the Connection comes back
// with a fresh session (recovery could not resume the old one): the server
// may have taken the user out of its rooms, so each room joined before is
// joined again with the same nick, password and display name, asking for
// the history since the session went down.
type RejoinConfig struct {
	// Disabled leaves the rooms alone: the bot joins again itself.
	Disabled bool
	// Done, when set, gets the outcome of each rejoin, on a goroutine of
	// the Connection: the room and nil, or the room's bare JID and the
	// error (a *JoinError when the room refused).
	Done func(room jid.JID, r *Room, err error)
}

// Rooms joins rooms on one Connection, and keeps them across reconnects.
// It is safe for concurrent use.
type Rooms struct {
	c   *xmppconn.Connection
	cfg Config

	mu     sync.Mutex
	joins  map[string]*join   // bare room JID -> a join or leave waiting for its answer
	joined map[string]*joined // bare room JID -> a room joined, for rejoining
	downAt time.Time          // when the live stream last went away
}

// joined is a room joined, and how.
type joined struct {
	room jid.JID
	nick string
	opts JoinOptions
}

// join is a join (or a leave) waiting for its outcome.
type join struct {
	occupant jid.JID // room@service/nick as asked
	leaving  bool    // a leave: the answer is the unavailable self-presence
	done     chan outcome
}

type outcome struct {
	room *Room
	err  error
}

// New returns the Rooms of c, watching c's inbound presences for the
// answers to its joins and its stream coming up for rejoins. Call it once
// per Connection, before Connect. The rooms are forgotten when the
// connection is closed (Disconnect); after FAILED and a new Connect they
// are joined again.
func New(c *xmppconn.Connection, cfg Config) *Rooms {
	m := &Rooms{c: c, cfg: cfg}
	c.Extend(xmppconn.Extension{Inbound: m.inbound, Up: m.up, Down: m.down})
	c.On(events.StateChanged, func(e events.Event) {
		if sc, ok := e.(events.StateChange); ok && sc.State == events.StateClosed {
			m.mu.Lock()
			m.joined = nil
			m.mu.Unlock()
		}
	})
	return m
}

// Join joins room (a bare JID) as nick (XEP-0045 §7.2). It returns once the
// room sent the self-presence (status 110, or the presence of room/nick
// from a server that omits 110), the room refused (a *JoinError), ctx
// ended, or the connection ended (xmppconn.ErrConnectionEnded). Only one
// join per room may be in progress.
func (m *Rooms) Join(ctx context.Context, room jid.JID, nick string, opts *JoinOptions) (*Room, error) {
	if opts == nil {
		opts = &JoinOptions{}
	}
	r, err := m.join(ctx, room, nick, *opts)
	if err == nil {
		m.mu.Lock()
		if m.joined == nil {
			m.joined = make(map[string]*joined)
		}
		m.joined[room.String()] = &joined{room: room, nick: nick, opts: *opts}
		m.mu.Unlock()
	}
	return r, err
}

// join sends the join presence and waits for its answer.
func (m *Rooms) join(ctx context.Context, room jid.JID, nick string, opts JoinOptions) (*Room, error) {
	if room.Localpart() == "" || room.Resourcepart() != "" {
		return nil, fmt.Errorf("muc: join %q: not a bare room JID", room.String())
	}
	if nick == "" {
		return nil, fmt.Errorf("muc: join %s: empty nick", room)
	}
	occupant, err := room.WithResource(nick)
	if err != nil {
		return nil, fmt.Errorf("muc: join %s: invalid nick: %w", room, err)
	}

	j := &join{occupant: occupant, done: make(chan outcome, 1)}
	if err := m.wait(room, j); err != nil {
		return nil, fmt.Errorf("muc: join %s: %w", room, err)
	}
	defer m.forget(room, j)

	ended := m.c.Ended()
	if err := m.c.Send(ctx, joinPresence(occupant, &opts)); err != nil {
		return nil, fmt.Errorf("muc: join %s: %w", room, err)
	}
	select {
	case out := <-j.done:
		return out.room, out.err
	case <-ctx.Done():
		return nil, fmt.Errorf("muc: join %s: %w", room, ctx.Err())
	case <-ended:
		return nil, fmt.Errorf("muc: join %s: %w", room, xmppconn.ErrConnectionEnded)
	}
}

// joinPresence returns the tokens of the join presence.
func joinPresence(occupant jid.JID, opts *JoinOptions) xml.TokenReader {
	var x []xml.TokenReader
	if opts.Password != "" {
		x = append(x, element("", "password", text(opts.Password)))
	}
	if h := historyElement(opts.History); h != nil {
		x = append(x, h)
	}
	children := []xml.TokenReader{element(NS, "x", x...)}
	if opts.DisplayName != "" {
		children = append(children, element(NSNick, "nick", text(opts.DisplayName)))
	}
	return stanza.Presence{To: occupant}.Wrap(xmlstream.MultiReader(children...))
}

// inbound takes the presences that answer joins and leaves: the
// self-presence, or an error. It runs on the Connection's processor and
// does not block.
func (m *Rooms) inbound(s xmppconn.Stanza) {
	if s.Start.Name.Local != "presence" {
		return
	}
	typ := s.Attr("type")
	if typ != "" && typ != "error" && typ != "unavailable" {
		return // subscriptions: not an answer of a room
	}
	m.mu.Lock()
	waiting := len(m.joins) > 0
	m.mu.Unlock()
	if !waiting {
		return // the common case: presences of rooms already joined
	}
	from, err := jid.Parse(s.Attr("from"))
	if err != nil {
		return
	}
	room := from.Bare()
	m.mu.Lock()
	j := m.joins[room.String()]
	m.mu.Unlock()
	if j == nil {
		return
	}
	if typ == "error" {
		se, err := xmppconn.ParseStanzaError(s.Raw)
		if err != nil {
			return // not an answer this join can use; it waits on
		}
		m.finish(room, j, outcome{err: &JoinError{Room: room, Err: se}})
		return
	}
	if (typ == "unavailable") != j.leaving {
		return // another occupant leaving, or arriving while we leave
	}
	self, err := parseUser(s.Raw)
	if err != nil {
		return
	}
	if !self.status(110) && !from.Equal(j.occupant) {
		return // another occupant
	}
	if j.leaving {
		m.finish(room, j, outcome{})
		return
	}
	m.finish(room, j, outcome{room: &Room{
		JID:         room,
		Nick:        from.Resourcepart(),
		Affiliation: self.Affiliation,
		Role:        self.Role,
		Created:     self.status(201),
	}})
}

// Leave leaves room (XEP-0045 §7.14) with an optional status text, and
// waits until the room confirmed (its unavailable self-presence), refused,
// ctx ended or the connection ended. The room is not rejoined after that.
func (m *Rooms) Leave(ctx context.Context, room jid.JID, status string) error {
	m.mu.Lock()
	r := m.joined[room.String()]
	delete(m.joined, room.String())
	m.mu.Unlock()
	if r == nil {
		return fmt.Errorf("muc: leave %s: %w", room, errNotJoined)
	}
	occupant, err := room.WithResource(r.nick)
	if err != nil {
		return fmt.Errorf("muc: leave %s: %w", room, err)
	}
	j := &join{occupant: occupant, leaving: true, done: make(chan outcome, 1)}
	if err := m.wait(room, j); err != nil {
		return fmt.Errorf("muc: leave %s: %w", room, err)
	}
	defer m.forget(room, j)
	var payload xml.TokenReader
	if status != "" {
		payload = element("", "status", text(status))
	}
	ended := m.c.Ended()
	if err := m.c.Send(ctx, stanza.Presence{To: occupant, Type: stanza.UnavailablePresence}.Wrap(payload)); err != nil {
		return fmt.Errorf("muc: leave %s: %w", room, err)
	}
	select {
	case out := <-j.done:
		return out.err
	case <-ctx.Done():
		return fmt.Errorf("muc: leave %s: %w", room, ctx.Err())
	case <-ended:
		return fmt.Errorf("muc: leave %s: %w", room, xmppconn.ErrConnectionEnded)
	}
}

// Joined returns the bare JIDs of the rooms joined (and not left), which
// Rooms joins again after a fresh session.
func (m *Rooms) Joined() []jid.JID {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]jid.JID, 0, len(m.joined))
	for _, r := range m.joined {
		out = append(out, r.room)
	}
	slices.SortFunc(out, func(a, b jid.JID) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// wait registers j as the one exchange of room waiting for an answer.
func (m *Rooms) wait(room jid.JID, j *join) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := room.String()
	if m.joins[key] != nil {
		return errJoinInProgress
	}
	if m.joins == nil {
		m.joins = make(map[string]*join)
	}
	m.joins[key] = j
	return nil
}

// down notes when the live stream went away: a rejoin asks for the history
// since then.
func (m *Rooms) down() {
	m.mu.Lock()
	m.downAt = time.Now()
	m.mu.Unlock()
}

// up rejoins the rooms after a fresh session, each on a goroutine of the
// Connection.
func (m *Rooms) up(resumed bool) {
	if resumed || m.cfg.Rejoin.Disabled {
		return
	}
	m.mu.Lock()
	var rooms []joined
	for _, r := range m.joined {
		rooms = append(rooms, *r)
	}
	since := m.downAt
	m.mu.Unlock()
	for _, r := range rooms {
		opts := r.opts
		opts.History = History{Since: since}
		if since.IsZero() {
			opts.History = History{None: true}
		}
		m.c.Go(func(stream context.Context) {
			got, err := m.join(stream, r.room, r.nick, opts)
			if err != nil && stream.Err() != nil {
				return // the stream went away meanwhile: the next Up tries again
			}
			if done := m.cfg.Rejoin.Done; done != nil {
				done(r.room, got, err)
			}
		})
	}
}

// finish ends the join j of room with out, if it still waits.
func (m *Rooms) finish(room jid.JID, j *join, out outcome) {
	if m.forget(room, j) {
		j.done <- out // buffered, one outcome per join
	}
}

// forget stops waiting for an answer to the join j of room, and reports
// whether it was still waiting.
func (m *Rooms) forget(room jid.JID, j *join) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := room.String()
	if m.joins[key] != j {
		return false
	}
	delete(m.joins, key)
	if len(m.joins) == 0 {
		m.joins = nil // an idle Rooms keeps no map
	}
	return true
}

// element returns the tokens of <local xmlns=space>children</local>; an
// empty space inherits the parent's namespace.
func element(space, local string, children ...xml.TokenReader) xml.TokenReader {
	return xmlstream.Wrap(xmlstream.MultiReader(children...), xml.StartElement{Name: xml.Name{Space: space, Local: local}})
}

// text returns the tokens of character data.
func text(s string) xml.TokenReader { return xmlstream.Token(xml.CharData(s)) }
