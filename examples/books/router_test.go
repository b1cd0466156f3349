package main

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

// routerBin is the router binary the end-to-end tests run: $WSROUTER_BIN,
// else one `go build` per test binary.
var routerBin = sync.OnceValues(func() (string, error) {
	if bin := os.Getenv("WSROUTER_BIN"); bin != "" {
		return filepath.Abs(bin)
	}
	dir, err := os.MkdirTemp("", "books-router-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "wsrouter")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/wsrouter/wsrouter/cmd/wsrouter").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/wsrouter: %w\n%s", err, out)
	}
	return bin, nil
})

// syncBuffer collects a process's output for the test log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startRouter runs the router on listen with the example's services at
// appURL and Redis at redisURL, and waits until it is ready. The router is
// stopped, and its log shown on failure, when the test ends.
func startRouter(t *testing.T, listen, appURL, redisURL string) {
	t.Helper()
	bin, err := routerBin()
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := freeAddr(t)
	cfg := fmt.Sprintf(`listen: %[1]s
allowed_origins: [%[2]q]
redis: {url: %[3]q}
http: {timeout: 5s, tries: 1}
metrics: {listen: %[4]q}
log: {level: info, format: text}
shutdown_timeout: 5s
authentication:
  ticket:
    validation_url: %[2]s/ws/auth/ticket/
    auth_fields: [user_id]
services:
  books:
    authorizer: %[2]s/ws/books/authorize/
    authorizer_fields: [can_edit]
    before_subscribe: %[2]s/ws/books/before_subscribe/
    on_message: %[2]s/ws/books/on_message/
    before_unsubscribe: %[2]s/ws/books/before_unsubscribe/
    on_unsubscribe: %[2]s/ws/books/on_unsubscribe/
`, listen, appURL, redisURL, metricsAddr)
	path := filepath.Join(t.TempDir(), "router.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	cmd := exec.Command(bin, "-config", path)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("router log:\n%s", log.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-done:
			t.Fatalf("router exited at start:\n%s", log.String())
		default:
		}
		if readyz(metricsAddr) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("router not ready after 15s:\n%s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readyz(addr string) bool {
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

// freeAddr returns a loopback address with a port that was free just now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
