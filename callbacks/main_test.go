package callbacks

import (
	"os"
	"testing"

	"github.com/wsrouter/wsrouter/internal/leakcheck"
)

// TestMain fails the run when goroutines of this package or of net/http
// are still running after every test and its cleanups have finished.
func TestMain(m *testing.M) {
	os.Exit(leakcheck.Run(m, "wsrouter/callbacks.", "net/http."))
}
