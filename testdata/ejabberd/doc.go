// Package ejabberd holds the files that configure the local ejabberd used by
// xmppconn's integration tests: the configuration template and the test-only
// request handler mod_xmppconn_test.erl, embedded so that a test binary can
// write them out wherever it runs. It is for the test harness in
// internal/servertest and for nothing else; mod_xmppconn_test must never be
// loaded on a real server.
package ejabberd
