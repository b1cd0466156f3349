package router

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain stops the package's shared Redis once every test has run, then
// checks that no goroutine of this package outlived its router: every
// test shuts its router down, which must end the hubs, the close queue and
// every session's goroutines.
func TestMain(m *testing.M) {
	code := m.Run()
	if sharedRedis != nil {
		sharedRedis.Stop()
	}
	if code == 0 {
		if leaked := routerGoroutines(5 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines of package router still running after every test:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// routerGoroutines waits up to within for the package's goroutines to end
// and returns the stacks of those that did not.
func routerGoroutines(within time.Duration) string {
	deadline := time.Now().Add(within)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "wsrouter/router.") && !strings.Contains(g, "router.TestMain") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
