package router

import (
	"os"
	"testing"

	"github.com/wsrouter/wsrouter/internal/leakcheck"
)

// TestMain stops the package's shared Redis once every test has run, then
// checks that no goroutine of this package outlived its router: every
// test shuts its router down, which must end the hubs, the close queue and
// every session's goroutines; and that the test kit's clients and fake
// services ended with their tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if sharedRedis != nil {
		sharedRedis.Stop()
	}
	os.Exit(leakcheck.Check(code, "wsrouter/router.", "wsrouter/internal/wstest."))
}
