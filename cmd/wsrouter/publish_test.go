package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/history"
	"github.com/wsrouter/wsrouter/internal/testredis"
)

func TestPublishCommand(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	cfg := baseConfig(t, srv.URL())
	cfg.section("redis")["channel_prefix"] = "p:"
	cfg.services()["books"] = map[string]any{"history": map[string]any{"size": 10}}
	cfg.services()["news"] = map[string]any{}
	path := filepath.Join(t.TempDir(), "wsrouter.yaml")
	writeFile(t, path, marshal(t, cfg))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rdb := srv.Client(t)
	ps := rdb.Subscribe(ctx, "p:books.b1", "p:news.n1")
	defer ps.Close()
	for range 2 {
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}

	code, stdout, stderr := runCLI(t, "publish", "-config", path, "books.b1", `{"data":{"title":"x"}}`)
	if code != 0 {
		t.Fatalf("history service: exit %d, stderr %q", code, stderr)
	}
	off, ok := history.ParseOffset(strings.TrimSpace(stdout))
	if !ok || off.Seq != 1 {
		t.Fatalf("history service: stdout %q, want the offset", stdout)
	}
	m, err := ps.ReceiveMessage(ctx)
	if err != nil || m.Payload != `{"data":{"title":"x"},"subscription":"books.b1","offset":"`+off.String()+`"}` {
		t.Fatalf("history service published %v (%v)", m, err)
	}

	cmd := exec.Command(routerBin, "publish", "-config", path, "news.n1", "-")
	cmd.Stdin = strings.NewReader(`{"subscription":"news.n1","data":null}`)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) != 0 {
		t.Fatalf("plain service from stdin: %v, output %q", err, out)
	}
	if m, err := ps.ReceiveMessage(ctx); err != nil || m.Channel != "p:news.n1" || m.Payload != `{"subscription":"news.n1","data":null}` {
		t.Fatalf("plain service published %v (%v)", m, err)
	}

	down := baseConfig(t, "redis://127.0.0.1:1/0")
	down.services()["books"] = map[string]any{"history": map[string]any{}}
	downPath := filepath.Join(t.TempDir(), "down.yaml")
	writeFile(t, downPath, marshal(t, down))

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no arguments", []string{"publish"}, 2, "usage: wsrouter publish"},
		{"one argument", []string{"publish", "-config", path, "books.b1"}, 2, "usage: wsrouter publish"},
		{"unknown service", []string{"publish", "-config", path, "chat.c1", `{"data":1}`}, 1, `service not configured: "chat"`},
		{"bad name", []string{"publish", "-config", path, "books", `{"data":1}`}, 1, "SERVICE.TOPIC"},
		{"not JSON", []string{"publish", "-config", path, "books.b1", `{"data":`}, 1, "bad message"},
		{"no data", []string{"publish", "-config", path, "books.b1", `{"x":1}`}, 1, `no "data" member`},
		{"missing config", []string{"publish", "-config", filepath.Join(t.TempDir(), "none.yaml"), "books.b1", `{"data":1}`}, 1, "none.yaml"},
		{"redis down", []string{"publish", "-config", downPath, "-timeout", "2s", "books.b1", `{"data":1}`}, 1, "connect"},
	}
	for _, tc := range tests {
		code, stdout, stderr := runCLI(t, tc.args...)
		if code != tc.wantCode || !strings.Contains(stderr, tc.wantErr) || stdout != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.name, code, stdout, stderr, tc.wantCode, tc.wantErr)
		}
	}
	if n, err := rdb.LLen(ctx, "{p:books.b1}:history").Result(); err != nil || n != 1 {
		t.Errorf("history holds %d messages (%v), want only the one published", n, err)
	}
}
