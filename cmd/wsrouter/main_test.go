package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// routerBin is the wsrouter binary the end-to-end tests run, built once
// by TestMain from this package.
var routerBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "wsrouter-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsrouter e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	routerBin = filepath.Join(dir, "wsrouter")
	args := []string{"build", "-o", routerBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "wsrouter e2e: go build: %v\n%s", err, out)
		return 1
	}
	code := m.Run()
	if code == 0 {
		if leaks := leakedGoroutines(5 * time.Second); leaks != "" {
			fmt.Fprintf(os.Stderr, "wsrouter e2e: goroutines leaked by the tests:\n%s\n", leaks)
			return 1
		}
	}
	return code
}

// leakedGoroutines waits up to timeout for the goroutines the tests start
// (WebSocket clients, HTTP servers and connections, proxies) to end, and
// returns the stacks of those still running.
func leakedGoroutines(timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	for {
		var leaks []string
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		for _, g := range strings.Split(string(buf), "\n\n") {
			if isTestGoroutine(g) {
				leaks = append(leaks, g)
			}
		}
		if len(leaks) == 0 || time.Now().After(deadline) {
			return strings.Join(leaks, "\n\n")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func isTestGoroutine(stack string) bool {
	if strings.Contains(stack, "leakedGoroutines") || strings.Contains(stack, "testing.(*M)") {
		return false
	}
	for _, mark := range []string{
		"github.com/wsrouter/wsrouter/cmd/wsrouter.",
		"github.com/coder/websocket.",
		"net/http.(*persistConn)",
		"net/http.(*conn).serve",
		"net/http/httptest.",
	} {
		if strings.Contains(stack, mark) {
			return true
		}
	}
	return false
}
