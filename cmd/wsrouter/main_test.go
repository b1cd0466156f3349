package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wsrouter/wsrouter/internal/leakcheck"
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
	// The goroutines the tests start: WebSocket clients, HTTP servers and
	// connections, proxies, the test kit's clients and fake services.
	return leakcheck.Check(m.Run(),
		"github.com/wsrouter/wsrouter/cmd/wsrouter.",
		"github.com/wsrouter/wsrouter/internal/wstest.",
		"github.com/coder/websocket.",
		"net/http.(*persistConn)",
		"net/http.(*conn).serve",
		"net/http/httptest.",
	)
}
