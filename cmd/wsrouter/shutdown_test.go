package main

import (
	"context"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// TestShutdownSignal: on SIGTERM or SIGINT the listener closes, clients get
// 1001, their unsubscribe callbacks run, and the process exits 0.
func TestShutdownSignal(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			rs := testredis.Start(t)
			svc := wstest.NewService(t)
			cfg := baseConfig(t, rs.URL())
			cfg["shutdown_timeout"] = "20s"
			cfg.services()["books"] = callbacksAt(svc, "before_unsubscribe", "on_unsubscribe")
			p := startRouter(t, cfg)

			topics := []string{"books.a", "books.b", "books.c"}
			var clients []*wstest.Client
			for _, topic := range topics {
				c := wstest.Dial(t, p.url())
				c.Subscribe(topic, nil)
				clients = append(clients, c)
			}
			// Hold the last callbacks so the drain is still running while
			// the test checks that the listener is closed.
			release := svc.Block("/on_unsubscribe")
			start := time.Now()
			p.signal(sig)

			for i, c := range clients {
				if code := c.ClosedWithin(10 * time.Second); code != websocket.StatusGoingAway {
					t.Errorf("client %d closed with %v, want 1001", i, code)
				}
			}
			svc.WaitCalls("/before_unsubscribe", len(topics), 10*time.Second)
			svc.WaitCalls("/on_unsubscribe", len(topics), 10*time.Second)
			if p.exited() {
				t.Fatal("router exited before its unsubscribe callbacks answered")
			}
			if conn, err := wstest.DialConn(context.Background(), p.url(), nil); err == nil {
				conn.CloseNow()
				t.Error("a new WebSocket connection was accepted while shutting down")
			}
			if code := p.readyStatus(); code != http.StatusServiceUnavailable && code != 0 {
				t.Errorf("/readyz answered %d while shutting down", code)
			}
			release()
			if code := p.waitExit(20 * time.Second); code != 0 {
				t.Fatalf("exit code %d, want 0", code)
			}
			if elapsed := time.Since(start); elapsed > 20*time.Second {
				t.Errorf("exit took %s, over shutdown_timeout", elapsed)
			}
			got := map[string]bool{}
			for _, call := range svc.Calls("/on_unsubscribe") {
				got[call.Body["subscription"].(string)] = true
			}
			for _, topic := range topics {
				if !got[topic] {
					t.Errorf("on_unsubscribe not called for %s (got %v)", topic, got)
				}
			}
			stopped := p.logs.wait(t, time.Second, "stopped", msgIs("stopped"))
			if left := stopped.m["unsubscribe_callbacks_left"]; left != float64(0) {
				t.Errorf("stopped with unsubscribe_callbacks_left=%v, want 0", left)
			}
			// A clean shutdown is not an error: operators alert on these.
			for _, l := range p.logs.entries() {
				if l.str("level") == "ERROR" {
					t.Errorf("ERROR logged during a clean shutdown: %s", l.raw)
				}
			}
		})
	}
}

// TestShutdownHangingCallbacks: a callback service that never answers does
// not hold the exit past shutdown_timeout, and the log says what was left.
func TestShutdownHangingCallbacks(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	svc := wstest.NewService(t)
	svc.Hang("/before_unsubscribe")
	cfg := baseConfig(t, rs.URL())
	const timeout = 2 * time.Second
	cfg["shutdown_timeout"] = timeout.String()
	// A callback timeout well past the deadline: the hanging calls must still
	// be in flight when the drain is cut, not time out and go on to
	// on_unsubscribe first on a slow machine.
	cfg["http"] = map[string]any{"timeout": "30s", "tries": 1, "wait": "10ms"}
	cfg.services()["books"] = callbacksAt(svc, "before_unsubscribe", "on_unsubscribe")
	p := startRouter(t, cfg)
	const n = 3
	for i := range n {
		wstest.Dial(t, p.url()).Subscribe("books.t"+string(rune('a'+i)), nil)
	}
	start := time.Now()
	p.signal(syscall.SIGTERM)
	svc.WaitCalls("/before_unsubscribe", n, 10*time.Second)
	if code := p.waitExit(timeout + 10*time.Second); code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
	// The deadline is the router's own; allow for process exit on a busy machine.
	if elapsed := time.Since(start); elapsed > timeout+3*time.Second {
		t.Errorf("exit %s after SIGTERM, shutdown_timeout is %s", elapsed, timeout)
	}
	if got := len(svc.Calls("/on_unsubscribe")); got != 0 {
		t.Errorf("on_unsubscribe called %d times though before_unsubscribe never answered", got)
	}
	stopped := p.logs.wait(t, time.Second, "stopped", msgIs("stopped"))
	left, _ := stopped.m["unsubscribe_callbacks_left"].(float64)
	if left == 0 {
		t.Errorf("log says no unsubscribe callbacks were left, but %d before_unsubscribe calls never answered "+
			"and %d on_unsubscribe calls were never made: %s", n, n, stopped.raw)
	}
}

// TestShutdownSecondSignal: a second SIGTERM/SIGINT during the drain exits
// at once instead of waiting for shutdown_timeout.
func TestShutdownSecondSignal(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	svc := wstest.NewService(t)
	svc.Hang("/before_unsubscribe")
	cfg := baseConfig(t, rs.URL())
	cfg["shutdown_timeout"] = "60s"
	cfg.services()["books"] = callbacksAt(svc, "before_unsubscribe")
	p := startRouter(t, cfg)
	wstest.Dial(t, p.url()).Subscribe("books.x", nil)

	p.signal(syscall.SIGTERM)
	svc.WaitCalls("/before_unsubscribe", 1, 10*time.Second)
	p.logs.wait(t, 5*time.Second, "shutting down", msgIs("shutting down"))
	if p.exited() {
		t.Fatal("router exited while a callback was still running and 60s were left")
	}
	p.signal(syscall.SIGINT)
	// Exit 1 is only for configuration and listener errors (SPEC 5).
	if code := p.waitExit(10 * time.Second); code != 0 {
		t.Errorf("exit code %d after the second signal, want 0", code)
	}
	p.logs.wait(t, time.Second, "second signal", msgIs("second signal; exiting at once"))
}
