-- mod_xmppconn_jitsi_focus: a test double of Jitsi's focus (Jicofo) for
-- xmppconn's integration tests (never load it on a real server).
--
-- Load it as a component:  Component "focus.DOMAIN" "xmppconn_jitsi_focus"
-- It answers the conference request
--
--   <iq type='set'><conference xmlns='http://jitsi.org/protocol/focus'
--       room='ROOM@MUC' machine-uid='...'><property name= value=/>...</conference></iq>
--
-- by the name of the room (its localpart):
--   ready*     ready='true'
--   vnode*     ready='true' vnode='VNODE' (xmppconn_jitsi_vnode)
--   notlive*   ready='false' with <property name='live' value='false'/>
--   notready*  ready='false' the first 2 requests for that room, then ready='true'
--   error*     an error: cancel/service-unavailable with a text
--   auth*      an error: auth/not-authorized
--   other      an error: modify/bad-request
-- Every answer echoes the request's properties and its machine-uid (as the
-- property 'machine-uid'), so a test can check what the client sent.

local st = require "util.stanza";
local jid_split = require "util.jid".split;

local NS_FOCUS = "http://jitsi.org/protocol/focus";

local vnode = module:get_option_string("xmppconn_jitsi_vnode", "visitors.example.invalid");
local focus_user = module:get_option_string("xmppconn_jitsi_focus_user", "focus@auth."..module.host);

local not_ready = {}; -- room JID -> ready='false' answers given so far

local function answer(stanza, request, attrs)
	local reply = st.reply(stanza):tag("conference", {
		xmlns = NS_FOCUS;
		room = request.attr.room;
		ready = attrs.ready;
		vnode = attrs.vnode;
		focusjid = focus_user;
	});
	for property in request:childtags("property") do
		reply:tag("property", { name = property.attr.name; value = property.attr.value }):up();
	end
	reply:tag("property", { name = "machine-uid"; value = request.attr["machine-uid"] or "" }):up();
	for _, p in ipairs(attrs.properties or {}) do
		reply:tag("property", { name = p[1]; value = p[2] }):up();
	end
	return reply;
end

module:hook("iq-set/host/"..NS_FOCUS..":conference", function (event)
	local origin, stanza = event.origin, event.stanza;
	local request = stanza.tags[1];
	local room = request.attr.room or "";
	local name = jid_split(room) or "";
	local reply;
	if name:match("^ready") then
		reply = answer(stanza, request, { ready = "true" });
	elseif name:match("^vnode") then
		reply = answer(stanza, request, { ready = "true"; vnode = vnode });
	elseif name:match("^notlive") then
		reply = answer(stanza, request, { ready = "false"; properties = { { "live", "false" } } });
	elseif name:match("^notready") then
		local n = (not_ready[room] or 0) + 1;
		if n <= 2 then
			not_ready[room] = n;
			reply = answer(stanza, request, { ready = "false" });
		else
			reply = answer(stanza, request, { ready = "true" });
		end
	elseif name:match("^error") then
		reply = st.error_reply(stanza, "cancel", "service-unavailable", "focus double: no conference for you");
	elseif name:match("^auth") then
		reply = st.error_reply(stanza, "auth", "not-authorized");
	else
		reply = st.error_reply(stanza, "modify", "bad-request", "focus double: unknown room prefix");
	end
	module:log("debug", "conference request for %s answered", room);
	origin.send(reply);
	return true;
end);
