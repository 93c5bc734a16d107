package xmppconn

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

// JoinOptions are the optional parts of a room join. The zero value joins
// without a password and without a display name.
type JoinOptions struct {
	// DisplayName is sent as Jitsi's display name (XEP-0172
	// <nick xmlns='http://jabber.org/protocol/nick'/>). A Jitsi lobby refuses
	// a join without one when it requires a display name.
	DisplayName string

	// Password is the room password (XEP-0045 <password/>).
	Password string
}

// Room is a room joined with JoinRoom.
type Room struct {
	JID         jid.JID // the room's bare JID
	Nick        string  // the nickname the room gave (it may differ from the one asked for)
	Affiliation string  // owner, admin, member or none
	Role        string  // moderator, participant or visitor
	Created     bool    // the join created the room (status 201)
}

// Errors a refused join matches with errors.Is (see RoomError).
var (
	ErrDisplayNameRequired = errors.New("xmppconn: join room: display name required")
	ErrPasswordRequired    = errors.New("xmppconn: join room: password required")
	ErrMembersOnly         = errors.New("xmppconn: join room: members only")
	ErrBanned              = errors.New("xmppconn: join room: banned")
	ErrNicknameConflict    = errors.New("xmppconn: join room: nickname in use")
)

// RoomError reports that a room refused a join (XEP-0045 §7.2). It matches
// ErrDisplayNameRequired (Jitsi's <displayname-required/>),
// ErrPasswordRequired (not-authorized), ErrMembersOnly
// (registration-required), ErrBanned (forbidden) and ErrNicknameConflict
// (conflict) with errors.Is.
type RoomError struct {
	Room      jid.JID // the room's bare JID
	Type      string  // the error type: auth, cancel, modify, wait
	Condition string  // the RFC 6120 condition, e.g. "not-authorized"
	Text      string  // the server's text, if any

	// DisplayNameRequired is set for Jitsi's
	// <displayname-required xmlns='http://jitsi.org/jitmeet'/>; Lobby for
	// its lobby='true'.
	DisplayNameRequired bool
	Lobby               bool
}

func (e *RoomError) Error() string {
	s := "xmppconn: join room " + e.Room.String() + ": " + e.Condition
	if e.DisplayNameRequired {
		s += " (display name required)"
	}
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// Is reports whether target is the sentinel error of the refusal.
func (e *RoomError) Is(target error) bool {
	switch target {
	case ErrDisplayNameRequired:
		return e.DisplayNameRequired
	case ErrPasswordRequired:
		return e.Condition == string(stanza.NotAuthorized)
	case ErrMembersOnly:
		return e.Condition == string(stanza.RegistrationRequired)
	case ErrBanned:
		return e.Condition == string(stanza.Forbidden)
	case ErrNicknameConflict:
		return e.Condition == string(stanza.Conflict)
	}
	return false
}

// roomJoin is a join waiting for its outcome.
type roomJoin struct {
	occupant jid.JID // room@service/nick as asked
	done     chan joinOutcome
}

type joinOutcome struct {
	room *Room
	err  error
}

// JoinRoom joins the multi-user chat room (a bare JID) as nick (XEP-0045
// §7.2), with Jitsi's display name when opts sets one. It returns once the
// room sent the self-presence (status 110, or the presence of room/nick from
// a server that omits 110), the room refused (a *RoomError), ctx ended, or
// the connection ended. A refusal for want of a display name also emits
// DisplayNameRequired with the room as the lobby. Only one join per room may
// be in progress.
func (c *Connection) JoinRoom(ctx context.Context, room jid.JID, nick string, opts *JoinOptions) (*Room, error) {
	if opts == nil {
		opts = &JoinOptions{}
	}
	if room.Localpart() == "" || room.Resourcepart() != "" {
		return nil, fmt.Errorf("xmppconn: join room %q: not a bare room JID", room.String())
	}
	if nick == "" {
		return nil, fmt.Errorf("xmppconn: join room %s: empty nick", room)
	}
	occupant, err := room.WithResource(nick)
	if err != nil {
		return nil, fmt.Errorf("xmppconn: join room %s: invalid nick: %w", room, err)
	}
	if err := c.sendable(); err != nil {
		return nil, err
	}

	c.watchEnd()
	key := room.String()
	j := &roomJoin{occupant: occupant, done: make(chan joinOutcome, 1)}
	c.jitsi.mu.Lock()
	if c.jitsi.joins[key] != nil {
		c.jitsi.mu.Unlock()
		return nil, fmt.Errorf("xmppconn: join room %s: a join is already in progress", room)
	}
	if c.jitsi.joins == nil {
		c.jitsi.joins = make(map[string]*roomJoin)
	}
	c.jitsi.joins[key] = j
	life := c.jitsi.lifeLocked()
	c.jitsi.mu.Unlock()
	defer func() {
		c.jitsi.mu.Lock()
		if c.jitsi.joins[key] == j {
			delete(c.jitsi.joins, key)
		}
		c.jitsi.mu.Unlock()
	}()

	if err := c.Send(ctx, joinPresence(occupant, opts)); err != nil {
		return nil, fmt.Errorf("xmppconn: join room %s: %w", room, err)
	}
	select {
	case out := <-j.done:
		return out.room, out.err
	case <-ctx.Done():
		return nil, fmt.Errorf("xmppconn: join room %s: %w", room, ctx.Err())
	case <-life:
		return nil, fmt.Errorf("xmppconn: join room %s: %w", room, errConnectionEnded)
	}
}

// joinPresence returns the tokens of the join presence.
func joinPresence(occupant jid.JID, opts *JoinOptions) xml.TokenReader {
	var x []xml.TokenReader
	if opts.Password != "" {
		x = append(x, element("", "password", nil, text(opts.Password)))
	}
	children := []xml.TokenReader{element(nsMUC, "x", nil, x...)}
	if opts.DisplayName != "" {
		children = append(children, element(nsNick, "nick", nil, text(opts.DisplayName)))
	}
	return stanza.Presence{ID: idPrefix + newID(), To: occupant}.Wrap(xmlstream.MultiReader(children...))
}

// inspectPresence handles presences from rooms: refusals (with Jitsi's
// display name condition) and the self-presence a join waits for.
func (c *Connection) inspectPresence(r root, elem []byte) {
	typ := r.attr("type")
	if typ != "" && typ != "error" {
		return // unavailable, subscriptions: not a join's answer
	}
	if typ == "" {
		c.jitsi.mu.Lock()
		waiting := len(c.jitsi.joins) > 0
		c.jitsi.mu.Unlock()
		if !waiting {
			return // the common case: presences of rooms already joined
		}
	}
	from, err := jid.Parse(r.attr("from"))
	if err != nil {
		return
	}
	room := from.Bare()
	if typ == "error" {
		se, err := parseStanzaError(elem)
		if err != nil {
			c.log.Debug("xmppconn: ignoring a malformed presence error", "err", err)
			return
		}
		c.inspectPresenceError(room, se)
		c.finishJoin(room, joinOutcome{err: &RoomError{
			Room: room, Type: se.Type, Condition: se.Condition, Text: se.Text,
			DisplayNameRequired: se.DisplayNameRequired, Lobby: se.Lobby,
		}})
		return
	}
	c.jitsi.mu.Lock()
	j := c.jitsi.joins[room.String()]
	c.jitsi.mu.Unlock()
	if j == nil {
		return
	}
	self, err := parseMUCUser(elem)
	if err != nil {
		c.log.Debug("xmppconn: ignoring a malformed room presence", "err", err)
		return
	}
	if !self.status(110) && !from.Equal(j.occupant) {
		return // another occupant
	}
	c.finishJoin(room, joinOutcome{room: &Room{
		JID:         room,
		Nick:        from.Resourcepart(),
		Affiliation: self.Affiliation,
		Role:        self.Role,
		Created:     self.status(201),
	}})
}

// finishJoin completes the join of room with out, if one waits.
func (c *Connection) finishJoin(room jid.JID, out joinOutcome) {
	c.jitsi.mu.Lock()
	j := c.jitsi.joins[room.String()]
	if j != nil {
		delete(c.jitsi.joins, room.String())
	}
	c.jitsi.mu.Unlock()
	if j == nil {
		return
	}
	j.done <- out // buffered, one outcome per join
}

// mucUser is what a room presence's <x xmlns='…muc#user'/> tells.
type mucUser struct {
	Affiliation, Role string
	Statuses          []string
}

func (m *mucUser) status(code int) bool {
	want := fmt.Sprint(code)
	for _, s := range m.Statuses {
		if s == want {
			return true
		}
	}
	return false
}

// parseMUCUser reads the muc#user payload of a serialized presence; a
// presence without one gives an empty mucUser. Malformed XML gives a
// *ProtocolError.
func parseMUCUser(elem []byte) (*mucUser, error) {
	var v struct {
		X *struct {
			Item *struct {
				Affiliation string `xml:"affiliation,attr"`
				Role        string `xml:"role,attr"`
			} `xml:"item"`
			Status []struct {
				Code string `xml:"code,attr"`
			} `xml:"status"`
		} `xml:"http://jabber.org/protocol/muc#user x"`
	}
	if err := xml.Unmarshal(elem, &v); err != nil {
		return nil, &ProtocolError{Step: "room presence", Msg: "malformed presence", Err: err}
	}
	m := &mucUser{}
	if v.X != nil {
		if v.X.Item != nil {
			m.Affiliation, m.Role = v.X.Item.Affiliation, v.X.Item.Role
		}
		for _, s := range v.X.Status {
			m.Statuses = append(m.Statuses, s.Code)
		}
	}
	return m, nil
}
