package router

import (
	"os"
	"testing"
)

// TestMain stops the package's shared Redis once every test has run.
func TestMain(m *testing.M) {
	code := m.Run()
	if sharedRedis != nil {
		sharedRedis.Stop()
	}
	os.Exit(code)
}
