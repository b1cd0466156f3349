package metrics

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestHandler(t *testing.T) {
	t.Parallel()
	m := New()
	var down atomic.Bool
	m.ObserveReadiness(func() error {
		if down.Load() {
			return errors.New("redis: connection refused")
		}
		return nil
	})
	srv := httptest.NewServer(m.Handler(func() error {
		if down.Load() {
			return errors.New("redis: connection refused")
		}
		return nil
	}))
	defer srv.Close()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	m.Connections.Inc()
	cases := []struct {
		name, path string
		status     int
		contains   string
	}{
		{"metrics", "/metrics", 200, "wsrouter_connections 1"},
		{"dropped reasons present at zero", "/metrics", 200, `wsrouter_dropped_total{reason="slow_consumer"} 0`},
		{"runtime collectors", "/metrics", 200, "go_goroutines"},
		{"healthz", "/healthz", 200, "ok"},
		{"readyz", "/readyz", 200, "ready"},
		{"ready gauge", "/metrics", 200, "wsrouter_ready 1"},
		{"pprof", "/debug/pprof/", 200, "goroutine"},
	}
	for _, tc := range cases {
		if status, body := get(tc.path); status != tc.status || !strings.Contains(body, tc.contains) {
			t.Errorf("%s: GET %s = %d %q, want %d containing %q", tc.name, tc.path, status, body, tc.status, tc.contains)
		}
	}
	down.Store(true)
	if status, body := get("/readyz"); status != 503 || !strings.Contains(body, "connection refused") {
		t.Errorf("not ready: GET /readyz = %d %q", status, body)
	}
	if _, body := get("/metrics"); !strings.Contains(body, "wsrouter_ready 0") {
		t.Errorf("not ready: /metrics has no wsrouter_ready 0")
	}
}
