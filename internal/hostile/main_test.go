package hostile

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a goroutine outlives the tests; each case
// also checks its own.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
