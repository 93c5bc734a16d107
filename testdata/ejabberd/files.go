package ejabberd

import _ "embed"

// ConfigTemplate is ejabberd.yml.tmpl, a Go text/template that renders a
// complete ejabberd 23.01 configuration (see internal/servertest for its
// data).
//
//go:embed ejabberd.yml.tmpl
var ConfigTemplate string

// TestModule is the Erlang source of mod_xmppconn_test, the request handler
// of the harness's control endpoints (/xmppconn-test/), compiled with erlc
// when a server starts.
//
//go:embed mod_xmppconn_test.erl
var TestModule string
