// Package prosody holds the files that configure the local Prosody used by
// xmppconn's integration tests: the configuration template and the test-only
// Prosody modules, embedded so that a test binary can write them out wherever
// it runs. It is for the test harness in internal/servertest and for nothing
// else; the modules it carries (mod_xmppconn_test) must never be loaded on a
// real server.
//
// The harness renders the template and writes the modules into a temporary
// directory:
//
//	tmpl := template.Must(template.New("cfg").Funcs(funcs).Parse(prosody.ConfigTemplate))
//	fs.WalkDir(prosody.Modules, "modules", copyInto(dir))
package prosody
