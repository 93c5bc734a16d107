package tokentest

import (
	"testing"

	"github.com/xmppconn/xmppconn/internal/servertest"
)

// tokenDomain is the VirtualHost whose auth provider is
// mod_auth_xmppconn_token.
const tokenDomain = "token.localhost"

// options enable, on Prosody, the token host, host-meta with plaintext
// endpoints, and a second token host that refuses expired tokens with
// credentials-expired. The tests need servertest.ProsodyModules: they never
// start an ejabberd.
func options(k servertest.Kind) *servertest.Options {
	if !k.IsProsody() {
		return nil
	}
	return &servertest.Options{Prosody: servertest.ProsodyOptions{
		Modules:     []string{"xmppconn_hostmeta"},
		ExtraGlobal: "xmppconn_hostmeta_plaintext = true",
		ExtraSections: `VirtualHost "token.localhost"
	authentication = "xmppconn_token"

VirtualHost "token2.localhost"
	authentication = "xmppconn_token"
	xmppconn_token_expired_condition = "credentials-expired"
`,
	}}
}

// TestMain runs the package's servers; servertest.Main also fails the run
// on leaked goroutines (go.uber.org/goleak).
func TestMain(m *testing.M) { servertest.Main(m, options) }
