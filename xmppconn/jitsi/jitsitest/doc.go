// Package jitsitest checks xmppconn's Jitsi Meet semantics against a real
// Prosody that plays a Jitsi deployment: the test-only modules
// mod_xmppconn_jitsi_props (the properties push from inside resource binding,
// and the domain's disco#info), mod_xmppconn_jitsi_lobby (the lobby
// component), mod_xmppconn_jitsi_focus (a focus answering conference requests
// by room name) and mod_xmppconn_jitsi_muc (a lobby that wants a display
// name, and password, members-only and ban rooms), all in
// testdata/prosody/modules. It holds the server options that enable them,
// for any test package that wants the same deployment, and the integration
// tests themselves; it is not for use outside this repository's tests.
//
// The tests run on both Prosodies of the server matrix (internal/servertest);
// those that need the Lua modules skip ejabberd, which loads none, with that
// reason (servertest.ProsodyModules):
//
//	func TestMain(m *testing.M) { servertest.Main(m, jitsitest.Options) }
//
// The deployment: domain MeetDomain pushes its properties (shard ShardA,
// region RegionA) and announces the lobby with the displayname_required
// feature; domain NoPushDomain pushes nothing, so a client asks it, and its
// lobby identity has no feature, so a client asks LobbyComponent.
package jitsitest
