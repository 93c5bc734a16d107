-- mod_xmppconn_jitsi_lobby: a test double of Jitsi Meet's lobby component for
-- xmppconn's integration tests (never load it on a real server).
--
-- Load it as a component:  Component "lobby.DOMAIN" "xmppconn_jitsi_lobby"
-- It answers disco#info with the component/lobbyrooms identity and, unless
-- xmppconn_jitsi_displayname_required is false, the feature
-- http://jitsi.org/protocol/lobbyrooms#displayname_required, which tells a
-- client that it must set a display name before it may join.

local st = require "util.stanza";

local NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
local FEATURE_DISPLAYNAME_REQUIRED = "http://jitsi.org/protocol/lobbyrooms#displayname_required";

local displayname_required = module:get_option_boolean("xmppconn_jitsi_displayname_required", true);

module:hook("iq-get/host/"..NS_DISCO_INFO..":query", function (event)
	local origin, stanza = event.origin, event.stanza;
	local node = stanza.tags[1].attr.node;
	if node and node ~= "" then
		origin.send(st.error_reply(stanza, "cancel", "item-not-found"));
		return true;
	end
	local reply = st.reply(stanza):tag("query", { xmlns = NS_DISCO_INFO })
		:tag("identity", { category = "component"; type = "lobbyrooms"; name = module.host }):up()
		:tag("feature", { var = NS_DISCO_INFO }):up();
	if displayname_required then
		reply:tag("feature", { var = FEATURE_DISPLAYNAME_REQUIRED }):up();
	end
	origin.send(reply);
	return true;
end);
