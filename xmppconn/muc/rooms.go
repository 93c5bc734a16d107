package muc

import (
	"context"
	"encoding/xml"
	"fmt"
	"sync"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/xmppconn"
)

// Namespaces of XEP-0045 and XEP-0172.
const (
	NS     = "http://jabber.org/protocol/muc"
	NSUser = "http://jabber.org/protocol/muc#user"
	NSNick = "http://jabber.org/protocol/nick"
)

// JoinOptions are the optional parts of a join. The zero value joins without
// a password and without a display name.
type JoinOptions struct {
	// Password is the room password (XEP-0045 §7.2.6).
	Password string

	// DisplayName is the user's nickname in the XEP-0172 sense, sent as
	// <nick xmlns='http://jabber.org/protocol/nick'/> in the join presence:
	// the name people see (Jitsi Meet shows it, and its lobby may require
	// one), apart from the occupant nick of the room JID.
	DisplayName string
}

// Room is a room joined with Join.
type Room struct {
	JID         jid.JID // the room's bare JID
	Nick        string  // the nickname the room gave (it may differ from the one asked for)
	Affiliation string  // owner, admin, member or none
	Role        string  // moderator, participant or visitor
	Created     bool    // the join created the room (status 201)
}

// Rooms joins rooms on one Connection. It is safe for concurrent use.
type Rooms struct {
	c *xmppconn.Connection

	mu    sync.Mutex
	joins map[string]*join // bare room JID -> a join waiting for its answer
}

// join is a join waiting for its outcome.
type join struct {
	occupant jid.JID // room@service/nick as asked
	done     chan outcome
}

type outcome struct {
	room *Room
	err  error
}

// New returns the Rooms of c, watching c's inbound presences for the
// answers to its joins. Call it once per Connection.
func New(c *xmppconn.Connection) *Rooms {
	m := &Rooms{c: c}
	c.Extend(xmppconn.Extension{Inbound: m.inbound})
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

	key := room.String()
	j := &join{occupant: occupant, done: make(chan outcome, 1)}
	m.mu.Lock()
	if m.joins[key] != nil {
		m.mu.Unlock()
		return nil, fmt.Errorf("muc: join %s: %w", room, errJoinInProgress)
	}
	if m.joins == nil {
		m.joins = make(map[string]*join)
	}
	m.joins[key] = j
	m.mu.Unlock()
	defer m.forget(room, j)

	ended := m.c.Ended()
	if err := m.c.Send(ctx, joinPresence(occupant, opts)); err != nil {
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
	children := []xml.TokenReader{element(NS, "x", x...)}
	if opts.DisplayName != "" {
		children = append(children, element(NSNick, "nick", text(opts.DisplayName)))
	}
	return stanza.Presence{To: occupant}.Wrap(xmlstream.MultiReader(children...))
}

// inbound takes the presences that answer joins: the self-presence, or an
// error. It runs on the Connection's processor and does not block.
func (m *Rooms) inbound(s xmppconn.Stanza) {
	if s.Start.Name.Local != "presence" {
		return
	}
	typ := s.Attr("type")
	if typ != "" && typ != "error" {
		return // unavailable, subscriptions: not a join's answer
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
	self, err := parseUser(s.Raw)
	if err != nil {
		return
	}
	if !self.status(110) && !from.Equal(j.occupant) {
		return // another occupant
	}
	m.finish(room, j, outcome{room: &Room{
		JID:         room,
		Nick:        from.Resourcepart(),
		Affiliation: self.Affiliation,
		Role:        self.Role,
		Created:     self.status(201),
	}})
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
