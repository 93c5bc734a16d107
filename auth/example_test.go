package auth_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/xmppconn/xmppconn/auth"
)

func ExampleChoose() {
	creds := auth.Credentials{Username: "alice", Password: auth.NewSecret("s3cret")}
	offered := []string{"SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"}

	m, err := auth.Choose(offered, creds, auth.Policy{})
	fmt.Println(m.Name, err)

	// PLAIN is refused on a connection without TLS unless AllowPlain is set.
	_, err = auth.Choose([]string{"PLAIN"}, creds, auth.Policy{})
	fmt.Println(errors.Is(err, auth.ErrNoMechanism))
	fmt.Println(err)
	// Output:
	// SCRAM-SHA-256 <nil>
	// true
	// sasl: no acceptable mechanism (offered: PLAIN): PLAIN refused without TLS
}

func ExampleSecret() {
	creds := auth.Credentials{Username: "alice", Password: auth.NewSecret("s3cret")}
	fmt.Println(creds)
	fmt.Printf("%v %#v %x\n", creds.Password, creds.Password, creds.Password)
	b, _ := json.Marshal(creds)
	fmt.Println(string(b))

	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // keep the output stable
			}
			return a
		},
	}))
	log.Info("connecting", "creds", creds)

	fmt.Println(creds.Password.Reveal() == "s3cret")
	// Output:
	// auth.Credentials{Username:"alice", Password:REDACTED}
	// REDACTED REDACTED REDACTED
	// {"Username":"alice","Password":"REDACTED","AuthzID":""}
	// level=INFO msg=connecting creds.username=alice creds.password=REDACTED
	// true
}

func ExampleParseFailure() {
	elem := []byte(`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/><text>Bad password</text></failure>`)
	fe, err := auth.ParseFailure(elem)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(fe)
	fmt.Println(errors.Is(fe, auth.ErrNotAuthorized))
	// Output:
	// sasl: not-authorized: Bad password
	// true
}

// The session layer drives an Exchange; here with anonymous credentials, as
// a Jitsi bot logs in with a token in the URL.
func ExampleExchange() {
	ex, err := auth.NewExchange([]string{"ANONYMOUS", "SCRAM-SHA-1"}, auth.Credentials{}, auth.Policy{})
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, _ := ex.Start() // nil: send <auth mechanism='ANONYMOUS'/> with no content
	fmt.Println(ex.Mechanism(), resp == nil)
	// ... the server answers <success/>:
	fmt.Println(ex.Finish(nil))
	// Output:
	// ANONYMOUS true
	// <nil>
}
