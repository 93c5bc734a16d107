-- mod_xmppconn_hostmeta: serves XEP-0156 host-meta for xmppconn's tests
-- (`xmppconn discover` against the local Prosody). For the test harness only;
-- a real server would use a maintained host-meta module or static files.
--
--   GET /.well-known/host-meta       XRD (application/xrd+xml)
--   GET /.well-known/host-meta.json  JSON (application/json)
--
-- on the HTTP and HTTPS ports of the host it is loaded on (requests to
-- 127.0.0.1 reach http_default_host). Both list this server's BOSH and
-- WebSocket endpoints on the HTTPS port (https://, wss://), BOSH first as in
-- XEP-0156's example. With xmppconn_hostmeta_plaintext = true they also list
-- the plaintext ones on the HTTP port (http://, ws://), so that a client's
-- refusal of plaintext endpoints can be tested.

module:depends("http");

local json = require "util.json";
local array = require "util.array";
local st = require "util.stanza";
local url = require "socket.url";
local portmanager = require "core.portmanager";

local xmlns_xrd = "http://docs.oasis-open.org/ns/xri/xrd-1.0";
local rel_bosh = "urn:xmpp:alt-connections:xbosh";
local rel_websocket = "urn:xmpp:alt-connections:websocket";

local plaintext = module:get_option_boolean("xmppconn_hostmeta_plaintext", false);

-- port returns a port the named service ("https" or "http") listens on.
local function port(service)
	for _, ports in pairs(portmanager.get_active_services():get(service) or {}) do
		for p in pairs(ports) do
			return p;
		end
	end
end

-- endpoint returns the URL of an HTTP app of this server (module:http_url
-- knows its host and path) with the given scheme and port.
local function endpoint(app, default_path, scheme, p)
	local u = url.parse(module:http_url(app, default_path));
	u.scheme, u.port, u.authority = scheme, p, nil;
	return url.build(u);
end

-- links returns the endpoints as { rel, href } pairs, TLS ones first.
local function links()
	local out = {};
	local function add(http_scheme, ws_scheme, p)
		if not p then return; end
		table.insert(out, { rel = rel_bosh, href = endpoint("bosh", "/http-bind", http_scheme, p) });
		table.insert(out, { rel = rel_websocket, href = endpoint("websocket", "/xmpp-websocket", ws_scheme, p) });
	end
	add("https", "wss", port("https"));
	if plaintext then
		add("http", "ws", port("http"));
	end
	return out;
end

local function reply(event, content_type, body)
	local response = event.response;
	response.headers.content_type = content_type;
	response.headers.access_control_allow_origin = "*";
	response.headers.cache_control = "no-store";
	return body;
end

local function serve_xrd(event)
	local xrd = st.stanza("XRD", { xmlns = xmlns_xrd });
	for _, link in ipairs(links()) do
		xrd:tag("Link", { rel = link.rel, href = link.href }):up();
	end
	return reply(event, "application/xrd+xml", "<?xml version='1.0' encoding='utf-8'?>\n" .. tostring(xrd));
end

local function serve_json(event)
	local list = array(); -- encodes as a JSON array even when empty
	for _, link in ipairs(links()) do
		list:push({ rel = link.rel, href = link.href });
	end
	return reply(event, "application/json", json.encode({ links = list }));
end

module:provides("http", {
	name = "xmppconn-hostmeta";
	default_path = "/.well-known";
	route = {
		["GET /host-meta"] = serve_xrd;
		["GET /host-meta.json"] = serve_json;
	};
});
