package servertest

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// Kind names one server of the test matrix.
type Kind string

// The servers the integration tests run against.
const (
	Prosody12 Kind = "prosody12" // Prosody 0.12.3 from Debian bookworm, with its prosody-modules (2023-02)
	Prosody13 Kind = "prosody13" // Prosody 13.0.1 from bookworm-backports, unpacked in the cache, with its prosody-modules (2025-04)
	Ejabberd  Kind = "ejabberd"  // ejabberd 23.01 from Debian bookworm
)

// Kinds lists every server of the matrix, in the order tests run on them.
var Kinds = []Kind{Prosody12, Prosody13, Ejabberd}

// SelectEnv is the environment variable that picks the servers to test
// against: a kind ("prosody13") or a comma-separated list of kinds. Empty or
// unset means all of Kinds.
const SelectEnv = "XMPPCONN_SERVER"

// RequireEnv is the environment variable that turns a selected server that is
// missing or fails to start from skipped tests into failed ones (CI sets it to
// "1"). Its name predates the matrix; it covers every kind.
const RequireEnv = "XMPPCONN_REQUIRE_PROSODY"

// IsProsody reports whether k is a Prosody.
func (k Kind) IsProsody() bool { return k == Prosody12 || k == Prosody13 }

// String returns the kind's name, as XMPPCONN_SERVER spells it.
func (k Kind) String() string { return string(k) }

// Selected returns the kinds XMPPCONN_SERVER selects, in the order of Kinds.
func Selected() ([]Kind, error) {
	return parseKinds(os.Getenv(SelectEnv))
}

// parseKinds reads a comma-separated list of kinds; "" means all.
func parseKinds(list string) ([]Kind, error) {
	if strings.TrimSpace(list) == "" {
		return slices.Clone(Kinds), nil
	}
	want := map[Kind]bool{}
	for _, name := range strings.Split(list, ",") {
		k := Kind(strings.TrimSpace(name))
		if !slices.Contains(Kinds, k) {
			return nil, fmt.Errorf("servertest: %s=%q: unknown server %q (want a comma list of %s)", SelectEnv, list, k, kindList())
		}
		want[k] = true
	}
	var out []Kind
	for _, k := range Kinds {
		if want[k] {
			out = append(out, k)
		}
	}
	return out, nil
}

func kindList() string {
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// selected reports whether XMPPCONN_SERVER selects k; an invalid value
// selects nothing (Main reports it).
func selected(k Kind) bool {
	kinds, err := Selected()
	return err == nil && slices.Contains(kinds, k)
}
