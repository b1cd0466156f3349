// Package leakcheck is the tests' one goroutine-leak check: a package's
// TestMain runs its tests through Run, which fails the binary when a
// goroutine running the package's code (or other code it names) outlives
// the tests and their cleanups.
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// wait is how long goroutines get to end after the tests: some end a
// moment after the cleanup that stopped them returned.
const wait = 5 * time.Second

// Run runs m's tests and returns Check of their exit code.
func Run(m *testing.M, marks ...string) int { return Check(m.Run(), marks...) }

// Check takes the exit code of tests that have run and, when they passed,
// waits for every goroutine whose stack contains one of marks (such as
// "wsrouter/router.") to end. It returns the exit code for os.Exit: 1,
// with the stacks printed, when some goroutine did not end.
func Check(code int, marks ...string) int {
	if code != 0 {
		return code
	}
	if leaked := Leaked(wait, marks...); leaked != "" {
		fmt.Fprintf(os.Stderr, "goroutines still running after every test (marks %q):\n%s\n", marks, leaked)
		return 1
	}
	return 0
}

// Leaked waits up to within for the goroutines whose stack contains one
// of marks to end, and returns the stacks of those that did not ("" when
// none is left). The goroutine running the tests' main is never counted.
func Leaked(within time.Duration, marks ...string) string {
	deadline := time.Now().Add(within)
	for {
		leaked := matching(marks)
		if len(leaked) == 0 || time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// matching returns the stacks of the goroutines that run code of marks.
func matching(marks []string) []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var leaked []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "testing.(*M)") || strings.Contains(g, ".TestMain(") || strings.Contains(g, "leakcheck.matching(") {
			continue // the tests' main, and the goroutine looking
		}
		for _, mark := range marks {
			if strings.Contains(g, mark) {
				leaked = append(leaked, g)
				break
			}
		}
	}
	return leaked
}
