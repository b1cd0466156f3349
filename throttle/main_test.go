package throttle

import (
	"os"
	"testing"

	"github.com/wsrouter/wsrouter/internal/leakcheck"
)

// TestMain fails the run when goroutines of the package (timer
// callbacks included) are still running after the tests.
func TestMain(m *testing.M) {
	os.Exit(leakcheck.Run(m, "wsrouter/throttle."))
}
