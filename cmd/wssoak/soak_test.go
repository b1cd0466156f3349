package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/metrics"
	"github.com/wsrouter/wsrouter/router"
	"github.com/wsrouter/wsrouter/services"
)

// TestSoak runs a 60-second soak against a router in this process, with a
// real Redis: 200 churning clients, 50 topics, 200 messages per second.
// Nothing may be lost, duplicated or reordered, and goroutines and the live
// heap must return near their baselines (RSS says little here: it holds
// the clients too, and the race detector's memory).
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("the soak takes over a minute; skipped with -short")
	}
	rds := testredis.Start(t)
	no := false
	cfg := services.Default()
	cfg.Redis.URL = rds.URL()
	cfg.Redis.ChannelPrefix = "soak:"
	cfg.Redis.PingInterval = services.Duration(time.Second)
	cfg.Redis.PingTimeout = services.Duration(2 * time.Second)
	cfg.Metrics.Listen = ""
	cfg.WebSocket.EventsPerSecond = 1000
	cfg.WebSocket.EventsBurst = 1000
	cfg.ShutdownTimeout = services.Duration(10 * time.Second)
	cfg.Services = map[string]*services.Service{"soak": {RequireAuthentication: &no}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	r, err := router.New(cfg, router.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	r.Start()
	ws := httptest.NewServer(r)
	ms := httptest.NewServer(m.Handler(r.Ready))
	t.Cleanup(func() {
		ws.Close()
		ms.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r.Shutdown(ctx)
	})
	deadline := time.Now().Add(10 * time.Second)
	for r.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("router not ready after 10s: %v", r.Ready())
		}
		time.Sleep(20 * time.Millisecond)
	}

	opts := options{
		url:            "ws" + strings.TrimPrefix(ws.URL, "http") + "/",
		redisAddr:      rds.Addr,
		prefix:         "soak:",
		service:        "soak",
		metricsURL:     ms.URL + "/metrics",
		pid:            os.Getpid(),
		duration:       60 * time.Second,
		clients:        200,
		topics:         50,
		rate:           200,
		minStay:        time.Second,
		maxStay:        10 * time.Second,
		settle:         30 * time.Second,
		goroutineSlack: 10,
		memSlackKiB:    8 << 10,
		seed:           uint64(time.Now().UnixNano()),
		liveHeap:       true,
	}
	if err := opts.validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := soak(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.summary())
	if p := res.problems(); len(p) > 0 {
		t.Fatalf("soak (seed %d) failed: %s", opts.seed, strings.Join(p, "; "))
	}
}
