// Package testrouter runs the wsrouter binary for the examples' end-to-end
// tests: a router process per test on free loopback ports, stopped when
// the test ends. Their WebSocket client is internal/wstest's.
package testrouter

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// binary is the router binary the tests run: $WSROUTER_BIN, else one
// `go build` per test binary.
var binary = sync.OnceValues(func() (string, error) {
	if bin := os.Getenv("WSROUTER_BIN"); bin != "" {
		return filepath.Abs(bin)
	}
	dir, err := os.MkdirTemp("", "testrouter-")
	if err != nil {
		return "", fmt.Errorf("testrouter: %w", err)
	}
	bin := filepath.Join(dir, "wsrouter")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/wsrouter/wsrouter/cmd/wsrouter").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("testrouter: go build ./cmd/wsrouter: %w\n%s", err, out)
	}
	return bin, nil
})

// Router is a router process started by Start.
type Router struct {
	// Listen is the WebSocket address, MetricsListen the operations one.
	Listen, MetricsListen string
	log                   *Buffer
	stop                  func()
}

// Stop interrupts the router and waits until it has exited (killing it
// after 10s), as the end of the test would; the port is free after it.
// Stopping twice is harmless.
func (r *Router) Stop() { r.stop() }

// URL is the router's WebSocket URL.
func (r *Router) URL() string { return "ws://" + r.Listen + "/" }

// Log is what the router has written so far.
func (r *Router) Log() string { return r.log.String() }

// Start runs the router with the configuration config, to which it adds
// the listen key (listen, or a free port when empty) and metrics.listen (a
// free port), and waits until /readyz answers 200. The router gets SIGINT
// when the test ends, and its log is shown when the test failed.
func Start(t testing.TB, listen, config string) *Router {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	if listen == "" {
		listen = FreeAddr(t)
	}
	r := &Router{Listen: listen, MetricsListen: FreeAddr(t), log: &Buffer{}}
	cfg := fmt.Sprintf("listen: %s\nmetrics: {listen: %q}\n%s", r.Listen, r.MetricsListen, config)
	path := filepath.Join(t.TempDir(), "router.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-config", path)
	cmd.Stdout, cmd.Stderr = r.log, r.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	r.stop = sync.OnceFunc(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	t.Cleanup(func() {
		r.stop()
		if t.Failed() {
			t.Logf("router log:\n%s", r.log.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for !Ready(r.MetricsListen) {
		select {
		case <-done:
			t.Fatalf("router exited at start:\n%s", r.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("router not ready after 15s:\n%s", r.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return r
}

// Ready reports whether GET /readyz on addr answers 200.
func Ready(addr string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// FreeAddr returns a loopback address with a port that was free just now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Buffer collects a process's output; it is safe for concurrent use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
