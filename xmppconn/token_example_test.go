package xmppconn_test

import (
	"context"
	"log"
	"os"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// fetchJWT stands for the bot's own call to its token service.
func fetchJWT(context.Context) (string, error) { return os.Getenv("BOT_JWT"), nil }

// A Jitsi bot that logs in with a JWT, fetches a new one whenever the
// current one expires, and is told when the server moves it.
func Example_token() {
	c := xmppconn.New(xmppconn.Config{
		URL: "meet.example.com", // a domain: the endpoint comes from its host-meta
		Token: auth.TokenFunc(func(ctx context.Context, refused auth.Secret) (auth.Secret, error) {
			tok, err := fetchJWT(ctx)
			if err != nil || tok == "" || tok == refused.Reveal() {
				return auth.Secret{}, auth.ErrNoToken
			}
			return auth.NewSecret(tok), nil
		}),
		Redirect: xmppconn.RedirectConfig{AllowHosts: []string{"shards.example.com"}},
	})
	c.On(events.ConnectionTokenExpired, func(e events.Event) {
		log.Printf("token expired at %s; asking for a new one", e.(events.TokenExpired).Expires)
	})
	c.On(events.ConnectionRedirected, func(e events.Event) {
		r := e.(events.Redirected)
		log.Printf("redirected (%s) to %s, followed: %v", r.Kind, r.Target, r.Followed)
	})
	ctx := context.Background()
	if err := c.Connect(ctx); err != nil {
		log.Print(err) // e.g. connection.passwordRequired: token expired and the token source has no other
		return
	}
	defer c.Disconnect(ctx)

	// Later, when the bot has a new token in hand:
	if tok, err := fetchJWT(ctx); err == nil {
		_ = c.RefreshToken(ctx, tok)
	}
}
