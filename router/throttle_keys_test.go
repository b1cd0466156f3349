package router

import (
	"fmt"
	"testing"

	"github.com/wsrouter/wsrouter/throttle"
)

// TestThrottleKeysBounded: a publisher that uses a new throttle_key for
// every message, with an hour's period, leaves a subscription with at most
// throttle.DefaultMaxKeys keys; each message still reaches the client, and
// a key forgotten at the bound sends its next message at once.
func TestThrottleKeysBounded(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Services["books"] = open()
	h := newHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b","status":"ok"}`)

	const n = throttle.DefaultMaxKeys + 100
	publish := func(i int, key string) {
		h.publish("books.b", fmt.Sprintf(`{"subscription":"books.b","data":%d,"options":{"throttle":3600,"throttle_key":%q}}`, i, key))
	}
	for i := range n {
		publish(i, fmt.Sprint("k", i))
	}
	for i := range n {
		c.Expect(fmt.Sprintf(`{"event":"message","subscription":"books.b","data":%d}`, i))
	}
	publish(n, "k0") // forgotten: goes out at once
	c.Expect(fmt.Sprintf(`{"event":"message","subscription":"books.b","data":%d}`, n))

	sub := subscriptionOf(t, h, "books.b")
	sub.mu.Lock()
	th := sub.throttle
	sub.mu.Unlock()
	if k := th.Keys(); k > throttle.DefaultMaxKeys {
		t.Errorf("throttle keeps %d keys, want at most %d", k, throttle.DefaultMaxKeys)
	}
}

// subscriptionOf returns the router's subscription name of the only
// session h has.
func subscriptionOf(t *testing.T, h *harness, name string) *subscription {
	t.Helper()
	h.r.mu.Lock()
	defer h.r.mu.Unlock()
	for s := range h.r.sessions {
		if sub := s.subscription(name); sub != nil {
			return sub
		}
	}
	t.Fatalf("no subscription %s", name)
	return nil
}
