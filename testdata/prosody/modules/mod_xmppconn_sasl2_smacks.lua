-- mod_xmppconn_sasl2_smacks: test-only bridge between Prosody 0.12.3's
-- mod_smacks and mod_sasl2_sm from the Debian prosody-modules snapshot.
--
-- mod_sasl2_sm calls mod_smacks.do_enable and mod_smacks.do_resume, which
-- only exist in Prosody 13's mod_smacks: on 0.12.3 the call fails inside the
-- SASL2 success handler and the client never gets <success/>. This module
-- provides both on top of 0.12.3's handle_enable and handle_resume, by
-- catching what they send instead of sending it, so that mod_sasl2_sm can
-- put the <enabled/>, <resumed/> or <failed/> inside <success/> as XEP-0198
-- says. Two more 0.12.3 gaps are filled for the modules of that snapshot:
-- mod_sasl2 asks a TLS connection for conn:ssl_info() (missing: no stream
-- features at all over wss:// and https://), and reads session.base_type
-- (missing on BOSH sessions: every SASL2 answer over BOSH fails); and the
-- stanza method add_error (Prosody 13), which mod_sasl2_sm and
-- mod_sasl2_bind2 use to report a failure, is added. Load it together with
-- sasl2, sasl2_bind2 and sasl2_sm, for xmppconn's tests only. Resumption
-- over BOSH is refused with <failed/> (0.12.3's handle_resume cannot resume
-- a BOSH session either).

local st = require "util.stanza";
local smacks = module:depends("smacks");

if not st.stanza_mt.add_error then
	-- add_error appends <error type=…><condition/></error> for err, a table
	-- with type and condition (and text).
	function st.stanza_mt:add_error(err)
		local e = type(err) == "table" and err or {};
		self:tag("error", { type = e.type or "cancel" })
			:tag(e.condition or "undefined-condition", { xmlns = "urn:ietf:params:xml:ns:xmpp-stanzas" }):up();
		if e.text then
			self:text_tag("text", e.text, { xmlns = "urn:ietf:params:xml:ns:xmpp-stanzas" });
		end
		return self:up();
	end
end

-- mod_sasl2 asks an encrypted connection for conn:ssl_info(), which 0.12.3's
-- connections lack: its features hook then fails and no <stream:features/>
-- is sent on TLS. Answer "unknown" (no channel binding) before it asks.
module:hook("stream-features", function (event)
	local conn = event.origin.conn;
	if event.origin.encrypted and type(conn) == "table" and conn.ssl_info == nil then
		conn.ssl_info = function () return nil; end;
	end
end, 2);

-- mod_bosh is global (shared) in 0.12: its event fires on the global context.
module:hook_global("bosh-session", function (event)
	local session = event.session;
	if session.base_type == nil then session.base_type = "c2s"; end
end);

local xmlns_sm3 = "urn:xmpp:sm:3";
local xmlns_errors = "urn:ietf:params:xml:ns:xmpp-stanzas";

-- failure turns a <failed/> (or nothing) into the error do_* return.
local function failure(reply, h)
	local condition = "undefined-condition";
	if reply then
		local child = reply:child_with_ns(xmlns_errors);
		if child then condition = child.name; end
	end
	return { type = "cancel", condition = condition, context = { h = h } };
end

-- capture runs fn(session, stanza, xmlns_sm3) with session.send catching
-- what it sends.
local function capture(session, fn, stanza)
	local sent = {};
	local send = session.send;
	session.send = function (s) sent[#sent + 1] = s; return true; end;
	local ok, err = pcall(fn, session, stanza, xmlns_sm3);
	return ok, err, sent, send;
end

if not rawget(smacks, "do_enable") then
	function smacks.do_enable(session, enable)
		local ok, err, sent, send = capture(session, smacks.handle_enable, enable);
		session.send = send;
		if not ok then
			module:log("error", "handle_enable failed: %s", err);
			return nil, failure(nil);
		end
		local reply = sent[1];
		if not reply or reply.name ~= "enabled" then
			return nil, failure(reply);
		end
		return {
			type = "enabled";
			id = reply.attr.id;
			resume_max = reply.attr.max;
			session = session;
			finish = function () end;
		};
	end
end

if not rawget(smacks, "do_resume") then
	function smacks.do_resume(session, resume)
		if not session.rawsend then
			return nil, { type = "cancel", condition = "feature-not-implemented" };
		end
		local conn = session.conn;
		local ok, err, sent, send = capture(session, smacks.handle_resume, resume);
		if not ok then
			session.send = send;
			module:log("error", "handle_resume failed: %s", err);
			return nil, failure(nil);
		end
		local reply = sent[1];
		if not reply or reply.name ~= "resumed" then
			session.send = send;
			return nil, failure(reply, reply and tonumber(reply.attr.h));
		end
		-- The resumed session is the one that took over this connection.
		local original;
		local user = prosody.hosts[session.host].sessions[session.username];
		for _, s in pairs(user and user.sessions or {}) do
			if s.conn == conn and s ~= session then original = s; end
		end
		if not original then
			module:log("error", "resumed session not found");
			return nil, failure(nil);
		end
		original.send = send;
		return {
			type = "resumed";
			id = resume.attr.previd;
			session = original;
			finish = function ()
				-- What handle_resume sent after <resumed/>: the unacked
				-- stanzas, already queued, and an ack request.
				original.resending_unacked = true;
				for i = 2, #sent do send(sent[i]); end
				original.resending_unacked = nil;
			end;
		};
	end
end
