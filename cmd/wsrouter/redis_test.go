package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// needRealRedis skips tests that kill and restart Redis when the embedded
// server stands in for redis-server.
func needRealRedis(t *testing.T, rs *testredis.Server) {
	t.Helper()
	if !rs.Real {
		t.Skip("needs a real redis-server on PATH to kill and restart it; the embedded Redis is in use")
	}
}

// waitRedisUp polls wsrouter_redis_up until it is want.
func (p *routerProc) waitRedisUp(want float64, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := p.metric("wsrouter_redis_up")
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("wsrouter_redis_up = %v, want %v", got, want)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// checkNotReady asserts the state of a router without Redis: /healthz 200,
// /readyz 503, upgrades refused with 503, wsrouter_redis_up 0.
func checkNotReady(t *testing.T, p *routerProc) {
	t.Helper()
	p.waitReadyz(http.StatusServiceUnavailable, 10*time.Second)
	if code, _, err := p.get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d %v, want 200", code, err)
	}
	if code := wstest.DialStatus(p.url(), nil); code != http.StatusServiceUnavailable {
		t.Errorf("upgrade without Redis: HTTP %d, want 503", code)
	}
	p.waitRedisUp(0, 5*time.Second)
}

// checkServes asserts that a new client subscribes and receives.
func checkServes(t *testing.T, p *routerProc, rs *testredis.Server, topic string) {
	t.Helper()
	c := wstest.Dial(t, p.url())
	c.Subscribe(topic, nil)
	newPublisher(t, rs).publish(topic, "after")
	c.ExpectMessage(topic, "after")
}

// TestRedisLost: killing redis-server closes subscribed clients with 1011,
// takes the router out of rotation, and a restart brings it back.
func TestRedisLost(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	needRealRedis(t, rs)
	cfg := baseConfig(t, rs.URL())
	cfg.services()["books"] = map[string]any{"require_authentication": false}
	p := startRouter(t, cfg)
	var clients []*wstest.Client
	for _, topic := range []string{"books.a", "books.b"} {
		c := wstest.Dial(t, p.url())
		c.Subscribe(topic, nil)
		clients = append(clients, c)
	}
	idle := wstest.Dial(t, p.url()) // connected, no subscription
	p.waitRedisUp(1, 5*time.Second)

	rs.Stop()
	for i, c := range append(clients, idle) {
		if code := c.ClosedWithin(10 * time.Second); code != websocket.StatusInternalError {
			t.Errorf("client %d closed with %v, want 1011", i, code)
		}
	}
	checkNotReady(t, p)
	if p.exited() {
		t.Fatal("router exited on Redis loss")
	}

	rs.Restart(t)
	p.waitReady(15 * time.Second)
	p.waitRedisUp(1, 5*time.Second)
	checkServes(t, p, rs, "books.a")
}

// TestRedisDownAtStart: the router starts and listens without Redis, is not
// ready, and becomes ready once Redis comes up.
func TestRedisDownAtStart(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	needRealRedis(t, rs)
	rs.Stop()
	cfg := baseConfig(t, rs.URL())
	cfg.services()["books"] = map[string]any{"require_authentication": false}
	p := launch(t, cfg)
	p.logs.wait(t, 10*time.Second, "listening", msgIs("wsrouter listening"))
	checkNotReady(t, p)
	if !strings.Contains(p.logs.text(), "redis not available") {
		t.Error("the log does not say Redis is unavailable")
	}

	rs.Restart(t)
	p.waitReady(15 * time.Second)
	p.waitRedisUp(1, 5*time.Second)
	checkServes(t, p, rs, "books.late")
}
