package jitsi

import (
	"errors"

	"mellium.im/xmpp/jid"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// FeatureDisplayNameRequired is the disco#info feature by which Jitsi's lobby
// tells that a participant must set a display name before joining.
const FeatureDisplayNameRequired = "http://jitsi.org/protocol/lobbyrooms#displayname_required"

// ErrDisplayNameRequired matches, with errors.Is, a room's refusal of a join
// for want of a display name: Jitsi's <displayname-required
// xmlns='http://jitsi.org/jitmeet'/> stanza error condition (its lobby='true'
// attribute says the refusal came from the lobby). Join again with
// muc.JoinOptions.DisplayName set.
var ErrDisplayNameRequired error = xmppconn.AppCondition{Space: NSJitMeet, Local: "displayname-required"}

// identityLobby is the disco#info identity type of Jitsi's lobby component;
// its name is the component's address.
const identityLobby = "lobbyrooms"

// checkLobby looks for the lobby component among the identities of a
// disco#info query of the domain. With the displayname_required feature in
// the same query it emits DisplayNameRequired at once; without it, it asks
// the lobby component, whose answer decides.
func (d *Deployment) checkLobby(info *discoInfo) {
	for _, id := range info.Identities {
		if id.Type != identityLobby {
			continue
		}
		if info.hasFeature(FeatureDisplayNameRequired) {
			d.c.Emit(events.DisplayName{Lobby: id.Name})
			continue
		}
		if id.Name == "" {
			continue
		}
		lobby, err := jid.Parse(id.Name)
		if err != nil {
			d.log.Debug("jitsi: lobby identity names no JID", "name", id.Name)
			continue
		}
		d.ask(lobby, func(info *discoInfo) {
			if info.hasFeature(FeatureDisplayNameRequired) {
				d.c.Emit(events.DisplayName{Lobby: lobby.String()})
			}
		})
	}
}

// inboundPresenceError emits DisplayNameRequired when a room refused a join
// for want of a display name, whoever sent the join.
func (d *Deployment) inboundPresenceError(s xmppconn.Stanza) {
	se, err := xmppconn.ParseStanzaError(s.Raw)
	if err != nil || !se.Is(ErrDisplayNameRequired) {
		return
	}
	from, err := jid.Parse(s.Attr("from"))
	if err != nil {
		return
	}
	d.c.Emit(events.DisplayName{Lobby: from.Bare().String()})
}

// FromLobby reports whether err is a refusal for want of a display name
// (ErrDisplayNameRequired) that the room's lobby gave (lobby='true').
func FromLobby(err error) bool {
	var se *xmppconn.StanzaError
	if !errors.As(err, &se) || !se.Is(ErrDisplayNameRequired) {
		return false
	}
	for _, a := range se.App.Attr {
		if a.Name.Local == "lobby" && (a.Value == "true" || a.Value == "1") {
			return true
		}
	}
	return false
}
