-- mod_xmppconn_jitsi_muc: Jitsi-like rules for a MUC component, for xmppconn's
-- integration tests (never load it on a real server).
--
-- Load it on the MUC component (modules_enabled = { "xmppconn_jitsi_muc" }).
--
-- 1. A join of a room whose name starts with "lobby" is refused, as Jitsi's
--    lobby does, unless the join presence carries a display name
--    (<nick xmlns='http://jabber.org/protocol/nick'>):
--      <error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
--        <displayname-required xmlns='http://jitsi.org/jitmeet' lobby='true'/></error>
-- 2. The rooms of xmppconn_jitsi_rooms are created when the module loads, so
--    that Prosody's own MUC code refuses joins for its own reasons:
--      xmppconn_jitsi_rooms = {
--        secret = { password = "s3cret" };              -- not-authorized without it
--        members = { members_only = true };             -- registration-required
--        banned = { outcast = { "villain@localhost" } }; -- forbidden for them
--      }

local st = require "util.stanza";
local jid_split = require "util.jid".split;

local NS_NICK = "http://jabber.org/protocol/nick";
local NS_JITMEET = "http://jitsi.org/jitmeet";

local muc = module:depends("muc");

module:hook("muc-occupant-pre-join", function (event)
	local room, stanza, origin = event.room, event.stanza, event.origin;
	local name = jid_split(room.jid) or "";
	if not name:match("^lobby") then
		return;
	end
	local nick = stanza:get_child_text("nick", NS_NICK);
	if nick and nick ~= "" then
		return;
	end
	local reply = st.error_reply(stanza, "modify", "not-acceptable", nil, room.jid)
		:tag("displayname-required", { xmlns = NS_JITMEET; lobby = "true" }):up();
	origin.send(reply);
	return true;
end, 10);

local rooms = module:get_option("xmppconn_jitsi_rooms", {});
for name, config in pairs(rooms) do
	local room_jid = name.."@"..module.host;
	local room = muc.get_room_from_jid(room_jid);
	if not room then
		room = muc.create_room(room_jid);
	end
	if not room then
		module:log("error", "cannot create room %s", room_jid);
	else
		room:set_persistent(true);
		if config.password then
			room:set_password(config.password);
		end
		if config.members_only then
			room:set_members_only(true);
		end
		for _, j in ipairs(config.outcast or {}) do
			room:set_affiliation(true, j, "outcast");
		end
		room:save(true);
		module:log("info", "test room %s ready", room_jid);
	end
end
