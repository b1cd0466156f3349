package presence

import (
	"os"
	"testing"

	"github.com/wsrouter/wsrouter/internal/leakcheck"
)

// TestMain fails the run when a goroutine of the package outlives the tests:
// every Run must end with its context.
func TestMain(m *testing.M) {
	os.Exit(leakcheck.Run(m, "wsrouter/presence."))
}
