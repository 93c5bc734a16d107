-- mod_xmppconn_jitsi_props: a test double of the deployment properties that
-- Jitsi Meet's Prosody tells its clients (xmppconn's integration tests only;
-- never load it on a real server).
--
-- Load it on a VirtualHost. It adds disco#info identities to the host, so that
-- a disco#info query of the domain answers with them (mod_disco does that),
-- and, unless xmppconn_jitsi_push is false, it pushes the same query to every
-- client from inside resource binding (Prosody's resource-bind event), so the
-- push reaches the client BEFORE the bind result, as on a Jitsi deployment:
--
--   <message from='DOMAIN' to='FULL JID'>
--     <query xmlns='http://jabber.org/protocol/disco#info'>
--       <identity category='server' type='shard' name='...'/> (region, release)
--       <identity category='component' type='lobbyrooms' name='LOBBY'/>
--       <feature var='...'/>...
--     </query>
--     <services xmlns='urn:xmpp:extdisco:2'><service .../></services>
--   </message>
--
-- Options, per host:
--   xmppconn_jitsi_shard, xmppconn_jitsi_region, xmppconn_jitsi_release
--       names of the server identities of those types (none when unset)
--   xmppconn_jitsi_push = true        push the properties message at bind
--   xmppconn_jitsi_lobby = "ADDRESS"  add a component/lobbyrooms identity
--                                     named ADDRESS (the lobby component)
--   xmppconn_jitsi_lobby_feature = false
--       also advertise http://jitsi.org/protocol/lobbyrooms#displayname_required
--       on the host itself (then a client needs not ask the lobby component)
--   xmppconn_jitsi_turn = "HOST"      host of the fake TURN service pushed

local st = require "util.stanza";
local id = require "util.id";

local NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
local NS_EXTDISCO = "urn:xmpp:extdisco:2";
local FEATURE_DISPLAYNAME_REQUIRED = "http://jitsi.org/protocol/lobbyrooms#displayname_required";

for _, kind in ipairs({ "shard", "region", "release" }) do
	local name = module:get_option_string("xmppconn_jitsi_"..kind);
	if name then
		module:add_identity("server", kind, name);
	end
end

local lobby = module:get_option_string("xmppconn_jitsi_lobby");
if lobby then
	module:add_identity("component", "lobbyrooms", lobby);
end
if module:get_option_boolean("xmppconn_jitsi_lobby_feature", false) then
	module:add_feature(FEATURE_DISPLAYNAME_REQUIRED);
end

local push = module:get_option_boolean("xmppconn_jitsi_push", true);
local turn = module:get_option_string("xmppconn_jitsi_turn", "turn.example.invalid");

-- properties_query builds the disco#info query the host would answer with:
-- every identity and feature the host's modules registered.
local function properties_query()
	local query = st.stanza("query", { xmlns = NS_DISCO_INFO });
	for _, identity in ipairs(module:get_host_items("identity")) do
		query:tag("identity", {
			category = identity.category;
			type = identity.type;
			name = identity.name;
		}):up();
	end
	for _, feature in ipairs(module:get_host_items("feature")) do
		query:tag("feature", { var = feature }):up();
	end
	return query;
end

local function services()
	return st.stanza("services", { xmlns = NS_EXTDISCO })
		:tag("service", { type = "stun"; host = turn; port = "3478"; transport = "udp" }):up()
		:tag("service", {
			type = "turns"; host = turn; port = "443"; transport = "tcp";
			username = "test-user"; password = "test-turn-credential";
			expires = "2030-01-01T00:00:00Z"; restricted = "1";
		}):up();
end

if push then
	module:hook("resource-bind", function (event)
		local session = event.session;
		local message = st.message({ from = module.host; to = session.full_jid; id = id.short() })
			:add_child(properties_query())
			:add_child(services());
		module:log("debug", "pushing properties to %s", session.full_jid);
		session.send(message);
	end);
end
