package muc

import (
	"errors"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/xmppconn"
)

// Refusals a *JoinError matches with errors.Is (XEP-0045 §7.2): any stanza
// error with the same condition matches.
var (
	ErrPasswordRequired error = xmppconn.StanzaCondition(stanza.NotAuthorized)        // a password-protected room
	ErrMembersOnly      error = xmppconn.StanzaCondition(stanza.RegistrationRequired) // a members-only room
	ErrBanned           error = xmppconn.StanzaCondition(stanza.Forbidden)            // the user is an outcast
	ErrNicknameConflict error = xmppconn.StanzaCondition(stanza.Conflict)             // the nick is in use
)

// errJoinInProgress is returned by a Join or Leave while another join or
// leave of the same room waits for its answer.
var errJoinInProgress = errors.New("a join is already in progress")

// errNotJoined is returned by Leave for a room that was not joined.
var errNotJoined = errors.New("not joined")

// JoinError reports that a room refused a join: the room's stanza error.
// errors.Is matches the Err* refusals of this package, any stanza.Error by
// condition, and application-specific conditions (xmppconn.AppCondition).
type JoinError struct {
	Room jid.JID               // the room's bare JID
	Err  *xmppconn.StanzaError // what the room answered
}

func (e *JoinError) Error() string {
	s := "muc: join " + e.Room.String() + ": " + string(e.Err.Condition())
	if t := e.Err.Text(); t != "" {
		s += ": " + t
	}
	return s
}

// Unwrap returns the stanza error.
func (e *JoinError) Unwrap() error { return e.Err }
