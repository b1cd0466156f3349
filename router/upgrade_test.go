package router

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/wstest"
)

// TestNotReadySaysOnlyUnavailable: while Redis is down, an upgrade gets a
// 503 that says the service is unavailable and nothing about why; the
// reason (with the Redis address) is for /readyz on the metrics listener.
func TestNotReadySaysOnlyUnavailable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	cfg := testConfig(t)
	cfg.Redis.URL = "redis://" + addr + "/0"
	r, err := New(cfg, Options{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, r)
	wstest.Eventually(t, 10*time.Second, "a dial error", func() bool {
		err := r.Ready()
		return err != nil && strings.Contains(err.Error(), addr)
	})
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || strings.TrimSpace(string(body)) != "service unavailable" {
		t.Fatalf("upgrade while not ready: %d %q, want 503 \"service unavailable\"", resp.StatusCode, body)
	}
}
