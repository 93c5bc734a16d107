package servertest

import "testing"

// Feature is something a test needs that not every server of the matrix has.
// A test asks for it in one of two ways, and never skips a server silently:
//
//   - EachWith, EachKind or Server.Need when the feature is the subject of
//     the test: on a server that lacks it the subtest is skipped with the
//     reason below, which names the missing piece or the server bug;
//   - Kind.Has when the test runs everywhere but expects something else where
//     the feature is missing: the branch says what and why in a comment.
type Feature string

// The features that differ between the servers.
const (
	// ProsodyModules: Prosody's Lua modules can be loaded, the test-only
	// ones of testdata/prosody/modules (token host, host-meta, Jitsi
	// doubles) and the community ones of prosody-modules.
	ProsodyModules Feature = "Prosody modules"
	// SASL2: XEP-0388 with Bind 2 (XEP-0386) and XEP-0198 inline, when the
	// test package loads the modules (see internal/sasl2test).
	SASL2 Feature = "SASL2"
	// FAST: XEP-0484 tokens through SASL2 (mod_sasl2_fast). Prosody 13
	// offers it only when the stream header carries from (the bare JID, as
	// RFC 6120 §4.7.1 asks on a protected stream).
	FAST Feature = "FAST"
	// BOSHResumption: a XEP-0198 session that lost its BOSH connection can
	// be resumed on a new BOSH session.
	BOSHResumption Feature = "BOSH resumption"
)

// missing says, per feature, which kinds lack it and why.
var missing = map[Feature]map[Kind]string{
	ProsodyModules: {
		Ejabberd: "ejabberd loads no Lua modules (the token host, host-meta and Jitsi doubles are Prosody test modules)",
	},
	SASL2: {
		Ejabberd: "ejabberd 23.01 has no SASL2 (XEP-0388 came with ejabberd 24.02)",
	},
	FAST: {
		Prosody12: "mod_sasl2_fast from the 2023-02 prosody-modules crashes every stream on Prosody 0.12.3",
		Ejabberd:  "ejabberd 23.01 has no FAST",
	},
	BOSHResumption: {
		Prosody12: "Prosody 0.12.3's mod_smacks crashes resuming a BOSH session (session.rawsend is nil) and never answers",
		Prosody13: "Prosody 13.0.1's mod_smacks crashes resuming a BOSH session (session.rawsend is nil) and never answers",
	},
}

// Has reports whether servers of kind k have feature f.
func (k Kind) Has(f Feature) bool { return k.Lacks(f) == "" }

// Lacks returns why servers of kind k lack feature f, or "" when they have it.
func (k Kind) Lacks(f Feature) string { return missing[f][k] }

// Has reports whether the server has feature f.
func (s *Server) Has(f Feature) bool { return s.Kind.Has(f) }

// Need skips the test, with the reason, when the server lacks feature f.
func (s *Server) Need(t testing.TB, f Feature) {
	t.Helper()
	if why := s.Kind.Lacks(f); why != "" {
		t.Skipf("%s: no %s: %s", s.Kind, f, why)
	}
}
