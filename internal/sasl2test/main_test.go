package sasl2test_test

import (
	"testing"

	"github.com/xmppconn/xmppconn/internal/prosodytest"
)

// modules are the SASL2 modules of prosody-modules (mod_sasl2_fast is left
// out on purpose: it crashes every stream on Prosody 0.12.3), and the
// test-only bridge that fills the gaps between that module snapshot and
// Prosody 0.12.3: mod_smacks' do_enable and do_resume, ssl_info on TLS
// connections, base_type on BOSH sessions, stanza add_error
// (testdata/prosody/modules/mod_xmppconn_sasl2_smacks.lua).
var modules = []string{"sasl2", "sasl2_bind2", "sasl2_sm", "xmppconn_sasl2_smacks"}

func TestMain(m *testing.M) {
	prosodytest.Main(m, &prosodytest.Options{Modules: modules})
}
