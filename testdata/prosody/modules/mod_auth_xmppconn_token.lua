-- mod_auth_xmppconn_token: a test double of a Jitsi-style token host, for
-- xmppconn's integration tests only. It checks NO signature: never load it on a
-- real server.
--
-- Enable it as the auth provider of a dedicated host:
--
--   VirtualHost "token.localhost"
--     authentication = "xmppconn_token"
--
-- What it does, the way Jitsi deployments behave:
--  * The client puts `token` (and, when it resumes a stream management session,
--    `previd`) in the query of the BOSH or WebSocket URL. They are read from the
--    HTTP request that opened the session and kept on the session.
--  * The only SASL mechanism offered is ANONYMOUS. It succeeds only when the
--    token is a JWT (three base64url segments) whose payload, decoded without
--    any verification, has a numeric `exp` in the future (and no `nbf` in the
--    future).
--  * Refusals, as <failure><CONDITION/><text>TEXT</text></failure>:
--      no token                -> not-allowed  "token required"
--      not a readable JWT      -> not-allowed  "token invalid"
--      no numeric exp          -> not-allowed  "token invalid: no exp"
--      nbf in the future       -> not-allowed  "token not yet valid"
--      exp in the past         -> not-allowed  "token expired"
--    The condition of the last one can be changed with
--    xmppconn_token_expired_condition = "credentials-expired" (the RFC 6120 one).
--  * With a previd naming a session of this host (its XEP-0198 resumption id),
--    the new login gets that session's username, so that mod_smacks accepts the
--    <resume previd=.../> that follows. Without it a fresh random username is
--    used, as SASL ANONYMOUS does.
--
-- The token itself is never logged.

local new_sasl = require "util.sasl".new;
local base64_decode = require "util.encodings".base64.decode;
local json = require "util.json";
local http_util = require "util.http";
local new_id = require "util.id".medium;

local host = module.host;
local expired_condition = module:get_option_string("xmppconn_token_expired_condition", "not-allowed");

-- Read token and previd from the URL of the HTTP request that opened a BOSH or
-- WebSocket session. Both mod_bosh and mod_websocket are global modules, so
-- their events fire on the global event bus, before the stream is open (the
-- session's host is not known yet).
local function read_query(event)
	local session, request = event.session, event.request;
	local query = request and request.url and request.url.query;
	if not session or not query or query == "" then return; end
	local params = http_util.formdecode(query);
	if type(params) ~= "table" then return; end
	session.xmppconn_token = params.token;
	session.xmppconn_previd = params.previd;
end
module:hook_global("bosh-session", read_query);
module:hook_global("websocket-session", read_query);

-- base64url without padding, as JWTs use it.
local function unb64url(s)
	local rem = #s % 4;
	if rem == 1 then return nil; end
	s = s:gsub("%-", "+"):gsub("_", "/");
	if rem == 2 then s = s .. "=="; elseif rem == 3 then s = s .. "="; end
	return base64_decode(s);
end

-- claims decodes the payload of a JWS compact serialization, or returns nil.
local function claims(token)
	local header, payload = token:match("^([%w%-_]+)%.([%w%-_]+)%.[%w%-_]*$");
	if not header then return nil; end
	local h, p = unb64url(header), unb64url(payload);
	if not h or not p then return nil; end
	local ok_h, dh = pcall(json.decode, h);
	local ok_p, dp = pcall(json.decode, p);
	if not ok_h or type(dh) ~= "table" or not ok_p or type(dp) ~= "table" then return nil; end
	return dp;
end

-- check returns true, or false, condition, text.
local function check(session)
	local token = session.xmppconn_token;
	if type(token) ~= "string" or token == "" then
		return false, "not-allowed", "token required";
	end
	local c = claims(token);
	if not c then
		return false, "not-allowed", "token invalid";
	end
	if type(c.exp) ~= "number" then
		return false, "not-allowed", "token invalid: no exp";
	end
	local now = os.time();
	if type(c.nbf) == "number" and c.nbf > now then
		return false, "not-allowed", "token not yet valid";
	end
	if c.exp <= now then
		return false, expired_condition, "token expired";
	end
	return true;
end

-- username_for returns the username of the session of this host whose
-- resumption id is previd, or a new random one.
local function username_for(session)
	local previd = session.xmppconn_previd;
	if type(previd) == "string" and previd ~= "" then
		for username, user in pairs(prosody.hosts[host].sessions or {}) do
			for _, s in pairs(user.sessions or {}) do
				if s.resumption_token == previd then
					return username, true;
				end
			end
		end
	end
	return new_id():lower(), false;
end

local profile = { anonymous = function() return true; end };

-- new_handler returns util.sasl's handler (which offers ANONYMOUS for this
-- profile) with the mechanism replaced by the token check. clean_clone, used
-- by mod_saslauth after a failure, keeps the replacement.
local function new_handler(session)
	local handler = new_sasl(host, profile);
	function handler.process(self, message) -- luacheck: ignore 212/message
		if self.selected ~= "ANONYMOUS" then
			return "failure", "invalid-mechanism";
		end
		local ok, condition, text = check(session);
		if not ok then
			module:log("info", "xmppconn_token: refused (%s: %s)", condition, text);
			return "failure", condition, text;
		end
		local username, resumed = username_for(session);
		module:log("info", "xmppconn_token: accepted as %s%s", username, resumed and " (previd)" or "");
		self.username = username;
		return "success";
	end
	function handler.clean_clone()
		return new_handler(session);
	end
	return handler;
end

local provider = {};

function provider.test_password()
	return nil, "Password based auth not supported.";
end

function provider.get_password()
	return nil, "Password not available.";
end

function provider.set_password()
	return nil, "Password based auth not supported.";
end

function provider.user_exists()
	return nil, "Only token users are supported.";
end

function provider.create_user()
	return nil, "Account creation/modification not supported.";
end

function provider.users()
	return next, prosody.hosts[host].sessions, nil;
end

function provider.get_sasl_handler(session)
	return new_handler(session);
end

module:provides("auth", provider);
