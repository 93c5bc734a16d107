package jitsitest

import "github.com/xmppconn/xmppconn/internal/servertest"

// The deployment that ProsodyOptions configures.
const (
	MeetDomain     = "meet.localhost"       // anonymous; pushes its properties at bind
	NoPushDomain   = "nopush.localhost"     // anonymous; answers disco#info only
	FocusComponent = "focus.meet.localhost" // answers conference requests by room name
	LobbyComponent = "lobby.meet.localhost" // advertises displayname_required
	VNode          = "visitors.meet.localhost"

	ShardA, RegionA, ReleaseA = "shard-a", "region-a", "release-a" // of MeetDomain
	ShardB, RegionB, ReleaseB = "shard-b", "region-b", "release-b" // of NoPushDomain

	// Rooms on the server's MUC component (servertest.Server.MUCDomain).
	SecretRoom   = "secret"  // password RoomPassword
	MembersRoom  = "members" // members-only
	BannedRoom   = "banned"  // BannedUser is an outcast
	RoomPassword = "s3cret"
	BannedUser   = "villain" // on servertest.Server.Domain
)

// Options returns the servertest options of the Jitsi-like deployment for a
// server of kind k: the Prosody modules of testdata/prosody/modules on
// either Prosody, nil (the defaults) for a kind that loads no Lua modules
// (servertest.ProsodyModules). Rooms whose name starts with "lobby" want a
// display name.
func Options(k servertest.Kind) *servertest.Options {
	if !k.Has(servertest.ProsodyModules) {
		return nil
	}
	return &servertest.Options{Prosody: servertest.ProsodyOptions{
		ExtraMUC: `	modules_enabled = { "xmppconn_jitsi_muc" }
	muc_room_locking = false
	xmppconn_jitsi_rooms = {
		["` + SecretRoom + `"] = { password = "` + RoomPassword + `" };
		["` + MembersRoom + `"] = { members_only = true };
		["` + BannedRoom + `"] = { outcast = { "` + BannedUser + `@localhost" } };
	}
`,
		ExtraSections: `
VirtualHost "` + MeetDomain + `"
	authentication = "anonymous"
	modules_enabled = { "xmppconn_jitsi_props" }
	xmppconn_jitsi_shard = "` + ShardA + `"
	xmppconn_jitsi_region = "` + RegionA + `"
	xmppconn_jitsi_release = "` + ReleaseA + `"
	xmppconn_jitsi_lobby = "` + LobbyComponent + `"
	xmppconn_jitsi_lobby_feature = true

VirtualHost "` + NoPushDomain + `"
	authentication = "anonymous"
	modules_enabled = { "xmppconn_jitsi_props" }
	xmppconn_jitsi_push = false
	xmppconn_jitsi_shard = "` + ShardB + `"
	xmppconn_jitsi_region = "` + RegionB + `"
	xmppconn_jitsi_release = "` + ReleaseB + `"
	xmppconn_jitsi_lobby = "` + LobbyComponent + `"

Component "` + FocusComponent + `" "xmppconn_jitsi_focus"
	xmppconn_jitsi_vnode = "` + VNode + `"

Component "` + LobbyComponent + `" "xmppconn_jitsi_lobby"
	xmppconn_jitsi_displayname_required = true
`,
	}}
}
