// Package tokentest holds the integration tests of the test-only Prosody
// modules for token hosts and discovery: mod_auth_xmppconn_token (a
// Jitsi-style token host that reads ?token= and ?previd= from the BOSH or
// WebSocket URL and accepts SASL ANONYMOUS only with an unexpired JWT) and
// mod_xmppconn_hostmeta (XEP-0156 host-meta). They run on every Prosody of
// the matrix (servertest.EachWith with servertest.ProsodyModules); ejabberd
// loads no Lua modules. It has no code besides its tests and is not for use
// by anything else. It also shows how a test package enables those modules:
//
//	func TestMain(m *testing.M) {
//		servertest.Main(m, func(k servertest.Kind) *servertest.Options {
//			if !k.IsProsody() {
//				return nil
//			}
//			return &servertest.Options{Prosody: servertest.ProsodyOptions{
//				Modules:       []string{"xmppconn_hostmeta"},
//				ExtraSections: "VirtualHost \"token.localhost\"\n\tauthentication = \"xmppconn_token\"\n",
//			}}
//		})
//	}
package tokentest
