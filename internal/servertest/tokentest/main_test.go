package tokentest

import (
	"testing"

	"github.com/xmppconn/xmppconn/internal/prosodytest"
)

// tokenDomain is the VirtualHost whose auth provider is
// mod_auth_xmppconn_token.
const tokenDomain = "token.localhost"

// options enable the token host, host-meta with plaintext endpoints, and a
// second token host that refuses expired tokens with credentials-expired.
var options = &prosodytest.Options{
	Modules:     []string{"xmppconn_hostmeta"},
	ExtraGlobal: "xmppconn_hostmeta_plaintext = true",
	ExtraSections: `VirtualHost "token.localhost"
	authentication = "xmppconn_token"

VirtualHost "token2.localhost"
	authentication = "xmppconn_token"
	xmppconn_token_expired_condition = "credentials-expired"
`,
}

// TestMain starts the package's Prosody; prosodytest.Main also fails the run
// on leaked goroutines (go.uber.org/goleak).
func TestMain(m *testing.M) { prosodytest.Main(m, options) }
