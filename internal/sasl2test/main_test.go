package sasl2test_test

import (
	"testing"

	"github.com/xmppconn/xmppconn/internal/servertest"
)

// sasl2Modules are the SASL2 modules of prosody-modules. mod_sasl2_fast is
// loaded on Prosody 13 only (fastModule): it crashes every stream on
// Prosody 0.12.3.
var sasl2Modules = []string{"sasl2", "sasl2_bind2", "sasl2_sm"}

// fastModule is XEP-0484 FAST, on Prosody 13. It offers FAST only to a
// stream whose header carries from, which the tests' own dial does not
// send unless a test asks for it (configFrom): the other tests see the
// same features as without it.
const fastModule = "sasl2_fast"

// bridge is the test-only module that fills the gaps between the 2023-02
// module snapshot and Prosody 0.12.3: mod_smacks' do_enable and do_resume,
// ssl_info on TLS connections, base_type on BOSH sessions, stanza add_error
// (testdata/prosody/modules/mod_xmppconn_sasl2_smacks.lua). Prosody 13 has
// them all and runs the 2025-04 snapshot as it is.
const bridge = "xmppconn_sasl2_smacks"

// options load the SASL2 modules on each Prosody, with the bridge on 0.12.3
// only. ejabberd 23.01 has no SASL2 (see servertest.SASL2): the tests
// expect RFC 6120 SASL there.
func options(k servertest.Kind) *servertest.Options {
	switch k {
	case servertest.Prosody12:
		return &servertest.Options{Prosody: servertest.ProsodyOptions{Modules: append(sasl2Modules, bridge)}}
	case servertest.Prosody13:
		return &servertest.Options{Prosody: servertest.ProsodyOptions{Modules: append(sasl2Modules, fastModule)}}
	}
	return nil
}

func TestMain(m *testing.M) { servertest.Main(m, options) }
