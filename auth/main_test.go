package auth

import (
	"os"
	"testing"

	"github.com/wsrouter/wsrouter/internal/leakcheck"
)

// TestMain fails the run when goroutines of this package, of the JWKS
// cache or of net/http outlive the tests.
func TestMain(m *testing.M) {
	os.Exit(leakcheck.Run(m, "wsrouter/auth.", "MicahParks/", "net/http."))
}
