package presence

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the package when a goroutine of it outlives the tests:
// every Run must end with its context.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := ownGoroutines(5 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines of package presence still running after every test:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// ownGoroutines waits up to within for the package's goroutines to end and
// returns the stacks of those that did not.
func ownGoroutines(within time.Duration) string {
	deadline := time.Now().Add(within)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "wsrouter/presence.") && !strings.Contains(g, "presence.TestMain") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
