-- mod_xmppconn_test: test-only control endpoints for the xmppconn test harness
-- (internal/servertest; its ejabberd twin is
-- testdata/ejabberd/mod_xmppconn_test.erl). Never load this module on a real
-- server: it lets any local HTTP client create accounts and close sessions.
--
-- Endpoints, under /xmppconn-test/ on the HTTP ports of the host it is loaded on:
--
--   GET  ready                     -> the value of xmppconn_test_instance (proves
--                                     which server answers)
--   POST users     (form: user, host, password)
--                                  -> 201 created / 200 password updated
--   GET  sessions?jid=J[&format=json]
--                                  -> full JIDs of the sessions of J, one a line,
--                                     or a JSON array of objects
--   POST kill      (form or query: jid, condition)
--                                  -> {"closed": N}
--
-- J is a full JID (that session), a bare JID (every resource), a domain (every
-- session on that host) or empty (every session on the server). Sessions that
-- hibernate under XEP-0198 are listed with "hibernating": true.
--
-- kill with a condition sends that stream error, as Prosody does itself (the
-- session's resumption token is revoked). kill with an empty condition drops the
-- connection without a stream error, like a network cut seen from the client:
-- a c2s or WebSocket session loses its TCP connection (and hibernates when it
-- is resumable); a BOSH session loses its held requests and its sid.

module:depends("http");

local jid_util = require "util.jid";
local json = require "util.json";
local http_util = require "util.http";
local usermanager = require "core.usermanager";
local sessionmanager = require "core.sessionmanager";
local nodeprep = require "util.encodings".stringprep.nodeprep;

local instance = module:get_option_string("xmppconn_test_instance", "");
local bosh_sessions = module:shared("/*/bosh/sessions");

local function is_loopback(request)
	local ip = request.ip or "";
	return ip == "127.0.0.1" or ip == "::1" or ip:match("^::ffff:127%.") ~= nil;
end

local function reply(event, status, body, content_type)
	local response = event.response;
	response.status_code = status;
	response.headers.content_type = content_type or "text/plain; charset=utf-8";
	response.headers.cache_control = "no-store";
	return body;
end

-- params merges the query string and, for a form body, the body.
local function params(request)
	local p = {};
	local query = request.url and request.url.query;
	if query and query ~= "" then
		for k, v in pairs(http_util.formdecode(query) or {}) do
			if type(k) == "string" then p[k] = v; end
		end
	end
	local body = request.body;
	if body and body ~= "" then
		for k, v in pairs(http_util.formdecode(body) or {}) do
			if type(k) == "string" then p[k] = v; end
		end
	end
	return p;
end

local function transport_of(session)
	if session.websocket_request then
		return "websocket";
	elseif session.bosh_version ~= nil or session.bosh_wait ~= nil then
		return "bosh";
	end
	return "c2s";
end

-- matching returns the sessions selected by target, as a list sorted by full JID.
-- ok is false when target is not a JID.
local function matching(target)
	local list = {};
	if target == nil or target == "" then
		for _, session in pairs(prosody.full_sessions) do
			table.insert(list, session);
		end
	else
		local node, host, resource = jid_util.prepped_split(target);
		if not host then
			return nil, false;
		end
		if resource then
			local session = prosody.full_sessions[jid_util.join(node, host, resource)];
			if session then table.insert(list, session); end
		elseif node then
			local user = prosody.bare_sessions[node.."@"..host];
			if user and user.sessions then
				for _, session in pairs(user.sessions) do
					table.insert(list, session);
				end
			end
		else
			for _, session in pairs(prosody.full_sessions) do
				if session.host == host then
					table.insert(list, session);
				end
			end
		end
	end
	table.sort(list, function (a, b) return (a.full_jid or "") < (b.full_jid or ""); end);
	return list, true;
end

local function describe(session)
	return {
		jid = session.full_jid or "";
		transport = transport_of(session);
		sm = session.smacks ~= nil and session.smacks ~= false;
		resumable = session.resumption_token ~= nil;
		hibernating = session.hibernating ~= nil and session.hibernating ~= false;
		held_requests = session.requests and #session.requests or 0;
	};
end

-- drop ends the transport of session without a stream error. It returns true
-- when there was a live connection to drop.
local function drop(session)
	if transport_of(session) == "bosh" then
		local held = session.requests or {};
		session.requests = {};
		for _, response in ipairs(held) do
			if response.conn then response.conn:close(); end
		end
		if session.sid then bosh_sessions[session.sid] = nil; end
		if session.inactive_timer then
			session.inactive_timer:stop();
			session.inactive_timer = nil;
		end
		if session.bosh_wait_timer then
			session.bosh_wait_timer:stop();
			session.bosh_wait_timer = nil;
		end
		sessionmanager.destroy_session(session, "dropped by xmppconn_test");
		return true;
	end
	local conn = session.conn;
	if not conn then
		return false; -- hibernating: nothing left to cut
	end
	conn:close();
	return true;
end

local function handle_ready(event)
	return reply(event, 200, instance);
end

local function handle_users(event)
	local request = event.request;
	if not is_loopback(request) then return reply(event, 403, "loopback only\n"); end
	local p = params(request);
	local user, host, password = p.user, p.host or module.host, p.password;
	if not user or user == "" or not password or password == "" then
		return reply(event, 400, "user and password are required\n");
	end
	if not prosody.hosts[host] then
		return reply(event, 400, "unknown host\n");
	end
	user = nodeprep(user);
	if not user then
		return reply(event, 400, "invalid user name\n");
	end
	if usermanager.user_exists(user, host) then
		local ok, err = usermanager.set_password(user, password, host, nil);
		if not ok then
			return reply(event, 500, "set password: "..tostring(err).."\n");
		end
		return reply(event, 200, "updated\n");
	end
	local ok, err = usermanager.create_user(user, password, host);
	if not ok then
		return reply(event, 500, "create user: "..tostring(err).."\n");
	end
	return reply(event, 201, "created\n");
end

local function handle_sessions(event)
	local request = event.request;
	if not is_loopback(request) then return reply(event, 403, "loopback only\n"); end
	local p = params(request);
	local list, ok = matching(p.jid);
	if not ok then return reply(event, 400, "invalid jid\n"); end
	local accept = request.headers.accept or "";
	if p.format == "json" or accept:find("application/json", 1, true) then
		local out = {};
		for _, session in ipairs(list) do
			table.insert(out, describe(session));
		end
		return reply(event, 200, json.encode_array(out), "application/json");
	end
	local lines = {};
	for _, session in ipairs(list) do
		table.insert(lines, (session.full_jid or "").."\n");
	end
	return reply(event, 200, table.concat(lines));
end

local function handle_kill(event)
	local request = event.request;
	if not is_loopback(request) then return reply(event, 403, "loopback only\n"); end
	local p = params(request);
	local condition = p.condition or "";
	if condition ~= "" and not condition:match("^[a-z][a-z%-]*$") then
		return reply(event, 400, "invalid condition\n");
	end
	local list, ok = matching(p.jid);
	if not ok then return reply(event, 400, "invalid jid\n"); end
	local closed = 0;
	for _, session in ipairs(list) do
		if condition == "" then
			if drop(session) then closed = closed + 1; end
		else
			session:close({ condition = condition; text = p.text });
			if not session.destroyed and not session.conn then
				-- A hibernating session: mod_websocket's close ignores
				-- it, and the resumption token is revoked by now.
				sessionmanager.destroy_session(session, condition);
			end
			closed = closed + 1;
		end
	end
	module:log("info", "xmppconn_test: closed %d session(s) of %q (condition %q)", closed, p.jid or "", condition);
	return reply(event, 200, json.encode({ closed = closed }), "application/json");
end

module:provides("http", {
	name = "xmppconn-test";
	default_path = "/xmppconn-test";
	route = {
		["GET /ready"] = handle_ready;
		["POST /users"] = handle_users;
		["GET /sessions"] = handle_sessions;
		["POST /kill"] = handle_kill;
	};
});
