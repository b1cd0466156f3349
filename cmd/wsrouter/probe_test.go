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

// TestDeliveryProbe: when Redis stops sending to the router while every
// connection stays open, the delivery probe fails within about
// ping_interval+ping_timeout: /readyz 503 and clients closed with 1011.
// When bytes flow again, the router is ready again.
func TestDeliveryProbe(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	proxy := newStallProxy(t, rs.Addr)
	cfg := baseConfig(t, "redis://"+proxy.addr()+"/0")
	cfg["redis"] = map[string]any{"url": "redis://" + proxy.addr() + "/0", "ping_interval": "200ms", "ping_timeout": "1s"}
	cfg.services()["books"] = map[string]any{"require_authentication": false}
	p := startRouter(t, cfg)
	c := wstest.Dial(t, p.url())
	c.Subscribe("books.p", nil)
	newPublisher(t, rs).publish("books.p", "before")
	c.ExpectMessage("books.p", "before")

	proxy.setStalled(true)
	stalled := time.Now()
	// 200ms + 500ms in the router; the bound leaves room for a busy machine.
	p.waitReadyz(http.StatusServiceUnavailable, 3*time.Second)
	t.Logf("/readyz turned 503 %s after the stall", time.Since(stalled).Round(time.Millisecond))
	if code := c.ClosedWithin(5 * time.Second); code != websocket.StatusInternalError {
		t.Errorf("client closed with %v, want 1011", code)
	}
	if code := wstest.DialStatus(p.url(), nil); code != http.StatusServiceUnavailable {
		t.Errorf("upgrade while the probe fails: HTTP %d, want 503", code)
	}
	p.waitRedisUp(0, 5*time.Second)
	lost := p.logs.wait(t, time.Second, "redis lost", msgIs("redis lost; closing clients so they reconnect"))
	if !strings.Contains(lost.str("err"), "delivery probe") {
		t.Errorf("Redis loss not attributed to the delivery probe: %s", lost.raw)
	}

	proxy.setStalled(false)
	p.waitReady(15 * time.Second)
	checkServes(t, p, rs, "books.q")
}
