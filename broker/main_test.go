package broker

import (
	"os"
	"testing"

	"github.com/wsrouter/wsrouter/internal/leakcheck"
)

// TestMain fails the package when a broker goroutine outlives the tests.
func TestMain(m *testing.M) { os.Exit(leakcheck.Run(m, "wsrouter/broker.")) }
