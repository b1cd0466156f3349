package wstest

import (
	"os"
	"testing"

	"github.com/wsrouter/wsrouter/internal/leakcheck"
)

// TestMain fails the package when a client's reader or a held request
// outlives its test.
func TestMain(m *testing.M) { os.Exit(leakcheck.Run(m, "wsrouter/internal/wstest.")) }
