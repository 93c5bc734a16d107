package auth_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/xmppconn/xmppconn/auth"
)

// A bot checks its token before connecting, sends it on the endpoint URL and
// prints only the redacted form.
func ExampleReadToken() {
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	signed, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"exp": exp.Unix()}).
		SignedString([]byte("issuer key"))
	tok := auth.NewSecret(signed)

	info := auth.ReadToken(tok)
	fmt.Println(info.JWT, info.Expires.Format(time.RFC3339))
	fmt.Println(info.Expired(exp.Add(-time.Hour), auth.DefaultClockSkew))
	fmt.Println(info.Expired(exp.Add(-10*time.Second), auth.DefaultClockSkew))

	u, _ := auth.AddToken("wss://meet.example.com/xmpp-websocket?room=daily", tok, "")
	fmt.Println(auth.RedactURL(u))

	// An opaque token is passed through with an unknown expiry.
	fmt.Println(auth.ReadToken(auth.NewSecret("opaque-token")).Expired(exp, 0))
	// Output:
	// true 2030-01-01T00:00:00Z
	// false
	// true
	// wss://meet.example.com/xmpp-websocket?room=daily&token=REDACTED
	// false
}

// A TokenFunc fetches a fresh token when the last one was refused; a static
// token has nothing better to offer.
func ExampleTokenSource() {
	ctx := context.Background()
	fresh := auth.TokenFunc(func(ctx context.Context, refused auth.Secret) (auth.Secret, error) {
		// Ask the bot's token service here.
		return auth.NewSecret("fresh-token"), nil
	})
	tok, err := auth.NextToken(ctx, fresh, auth.NewSecret("expired-token"))
	fmt.Println(tok, err)

	static := auth.StaticToken("only-token")
	tok, _ = auth.NextToken(ctx, static, auth.Secret{})
	_, err = auth.NextToken(ctx, static, tok) // the server refused it
	fmt.Println(errors.Is(err, auth.ErrNoToken))
	// Output:
	// REDACTED <nil>
	// true
}

func ExampleTokenExpiredFailure() {
	fe := &auth.FailureError{Condition: "not-allowed", Text: "token expired"}
	fmt.Println(auth.TokenExpiredFailure(fe))
	// Output: true
}
