package xmppconn

import (
	"context"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/events"
)

// FeatureDisplayNameRequired is the disco#info feature by which Jitsi's lobby
// tells that a participant must set a display name before joining.
const FeatureDisplayNameRequired = "http://jitsi.org/protocol/lobbyrooms#displayname_required"

// identityLobby is the disco#info identity type of Jitsi's lobby component;
// its name is the component's address.
const identityLobby = "lobbyrooms"

// checkLobby looks for the lobby component among the identities of a
// disco#info query of the domain. With the displayname_required feature in
// the same query it emits DisplayNameRequired at once; without it, it asks the
// lobby component, whose answer decides.
func (c *Connection) checkLobby(info *discoInfo) {
	for _, id := range info.Identities {
		if id.Type != identityLobby {
			continue
		}
		if info.hasFeature(FeatureDisplayNameRequired) {
			c.em.Emit(events.DisplayName{Lobby: id.Name})
			continue
		}
		if id.Name == "" {
			continue
		}
		lobby, err := jid.Parse(id.Name)
		if err != nil {
			c.log.Debug("xmppconn: lobby identity names no JID", "name", id.Name)
			continue
		}
		c.askLobby(lobby)
	}
}

// askLobby sends disco#info to the lobby component; its answer is handled on
// the processor.
func (c *Connection) askLobby(lobby jid.JID) {
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	_, _, err := c.sendIQ(ctx, stanza.GetIQ, lobby, discoInfoQuery(), func(r root, elem []byte) {
		if r.attr("type") != "result" {
			c.log.Debug("xmppconn: the lobby refused disco#info", "lobby", lobby.String())
			return
		}
		info, _, err := parseDiscoPayload(elem)
		if err != nil || info == nil {
			c.log.Debug("xmppconn: unusable disco#info result of the lobby", "err", err)
			return
		}
		if info.hasFeature(FeatureDisplayNameRequired) {
			c.em.Emit(events.DisplayName{Lobby: lobby.String()})
		}
	})
	if err != nil {
		c.log.Debug("xmppconn: asking the lobby for its features", "err", err)
	}
}

// inspectPresenceError emits DisplayNameRequired when a room refused a join
// for want of a display name (Jitsi's <displayname-required/>), whoever sent
// the join.
func (c *Connection) inspectPresenceError(room jid.JID, se *stanzaError) {
	if se.DisplayNameRequired {
		c.em.Emit(events.DisplayName{Lobby: room.String()})
	}
}
