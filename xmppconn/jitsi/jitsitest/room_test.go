package jitsitest_test

import (
	"errors"
	"testing"

	"mellium.im/xmpp/jid"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn/jitsi"
	"github.com/xmppconn/xmppconn/xmppconn/jitsi/jitsitest"
	"github.com/xmppconn/xmppconn/xmppconn/muc"
)

// TestJoinRoom joins the rooms of the MUC double: new, lobby, password,
// members-only, ban and nickname conflict.
func TestJoinRoom(t *testing.T) { servertest.EachWith(t, servertest.ProsodyModules, testJoinRoom) }

func testJoinRoom(t *testing.T, s *servertest.Server) {
	if err := s.AddUser(xmpptest.Context(t), jitsitest.BannedUser, "villain-password"); err != nil {
		t.Fatal(err)
	}
	for _, ep := range endpoints {
		t.Run(ep.Name, func(t *testing.T) {
			anon := func(t *testing.T) (*meet, *xmpptest.Recorder) {
				return connect(t, config(t, s, ep, jitsitest.MeetDomain))
			}
			room := func(name string) jid.JID { return jid.MustParse(name + "@" + s.MUCDomain) }

			t.Run("new room", func(t *testing.T) {
				xmpptest.NoLeaks(t)
				c, _ := anon(t)
				r, err := c.Join(xmpptest.Context(t), room(unique("plain")), "bot", nil)
				if err != nil {
					t.Fatalf("JoinRoom: %v", err)
				}
				if r.Nick != "bot" || !r.Created || r.Affiliation != "owner" || r.Role != "moderator" {
					t.Errorf("room = %+v, want a new room owned by bot", r)
				}
			})

			t.Run("lobby wants a display name", func(t *testing.T) {
				xmpptest.NoLeaks(t)
				c, rec := anon(t)
				lobby := room(unique("lobby"))
				_, err := c.Join(xmpptest.Context(t), lobby, "bot", nil)
				if !errors.Is(err, jitsi.ErrDisplayNameRequired) || !jitsi.FromLobby(err) {
					t.Fatalf("JoinRoom error = %v, want ErrDisplayNameRequired from the lobby", err)
				}
				// The push announced the lobby component; the refusal names the room.
				ds := rec.WaitType(t, events.DisplayNameRequired, 2)
				if got := ds[1].(events.DisplayName).Lobby; got != lobby.String() {
					t.Errorf("DisplayNameRequired lobby = %q, want %s", got, lobby)
				}
				if _, err := c.Join(xmpptest.Context(t), lobby, "bot", &muc.JoinOptions{DisplayName: "Bot"}); err != nil {
					t.Errorf("JoinRoom with a display name: %v", err)
				}
			})

			t.Run("password", func(t *testing.T) {
				xmpptest.NoLeaks(t)
				c, _ := anon(t)
				_, err := c.Join(xmpptest.Context(t), room(jitsitest.SecretRoom), unique("bot"), nil)
				if !errors.Is(err, muc.ErrPasswordRequired) {
					t.Fatalf("JoinRoom without password: %v, want ErrPasswordRequired", err)
				}
				_, err = c.Join(xmpptest.Context(t), room(jitsitest.SecretRoom), unique("bot"), &muc.JoinOptions{Password: jitsitest.RoomPassword})
				if err != nil {
					t.Errorf("JoinRoom with the password: %v", err)
				}
			})

			t.Run("members only", func(t *testing.T) {
				xmpptest.NoLeaks(t)
				c, _ := anon(t)
				_, err := c.Join(xmpptest.Context(t), room(jitsitest.MembersRoom), unique("bot"), nil)
				if !errors.Is(err, muc.ErrMembersOnly) {
					t.Fatalf("JoinRoom: %v, want ErrMembersOnly", err)
				}
			})

			t.Run("banned", func(t *testing.T) {
				xmpptest.NoLeaks(t)
				cfg := config(t, s, ep, s.Domain)
				cfg.Credentials = auth.Credentials{Username: jitsitest.BannedUser, Password: auth.NewSecret("villain-password")}
				c, _ := connect(t, cfg)
				_, err := c.Join(xmpptest.Context(t), room(jitsitest.BannedRoom), unique("bot"), nil)
				if !errors.Is(err, muc.ErrBanned) {
					t.Fatalf("JoinRoom: %v, want ErrBanned", err)
				}
			})

			t.Run("nick conflict", func(t *testing.T) {
				xmpptest.NoLeaks(t)
				a, _ := anon(t)
				b, _ := anon(t)
				shared := room(unique("shared"))
				if _, err := a.Join(xmpptest.Context(t), shared, "same", nil); err != nil {
					t.Fatalf("first JoinRoom: %v", err)
				}
				_, err := b.Join(xmpptest.Context(t), shared, "same", nil)
				if !errors.Is(err, muc.ErrNicknameConflict) {
					t.Fatalf("second JoinRoom: %v, want ErrNicknameConflict", err)
				}
				if r, err := b.Join(xmpptest.Context(t), shared, "other", nil); err != nil || r.Created {
					t.Errorf("JoinRoom with another nick = %+v, %v", r, err)
				}
			})
		})
	}
}
