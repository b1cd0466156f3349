package router

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/services"
)

// TestSlowConsumerIsClosedOthersUnaffected: a client that stops reading
// fills its send queue and is closed (counted); a healthy client on the
// same topic receives everything meanwhile.
func TestSlowConsumerIsClosedOthersUnaffected(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.WebSocket.SendQueue = 16
	cfg.Services["books"] = open()
	h := newHarness(t, cfg)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	slow, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.CloseNow()
	if err := slow.Write(ctx, websocket.MessageText, []byte(`{"event":"subscribe","subscription":"books.b"}`)); err != nil {
		t.Fatal(err)
	}
	healthy := h.dial()
	healthy.Send(`{"event":"subscribe","subscription":"books.b"}`)
	healthy.Expect(`{"event":"subscribe","subscription":"books.b","status":"ok"}`)
	wstest.Eventually(t, 5*time.Second, "slow client subscribed", func() bool { return h.numsub("books.b") == 1 && sessionSubs(h.r) == 2 })

	payload := strings.Repeat("x", 64<<10)
	const n = 300
	for i := range n {
		h.publish("books.b", fmt.Sprintf(`{"subscription":"books.b","data":{"i":%d,"p":"%s"}}`, i, payload))
	}
	for i := range n {
		b := healthy.Next()
		if !strings.Contains(string(b), fmt.Sprintf(`"i":%d,`, i)) {
			t.Fatalf("healthy client: message %d is %.60s", i, b)
		}
	}
	wstest.Eventually(t, 10*time.Second, "slow consumer dropped", func() bool {
		return counterValue(t, h.r.metrics.Dropped.WithLabelValues("slow_consumer")) == 1 && sessionSubs(h.r) == 1
	})
}

// sessionSubs counts the subscriptions of every open session.
func sessionSubs(r *Router) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for s := range r.sessions {
		n += s.subscriptionCount()
	}
	return n
}

// TestMassDisconnectPacedAndCapped: 2,000 clients with a subscription each
// disconnect at once; the service sees every on_unsubscribe, never more
// than http.max_concurrency at a time, at about the configured pace.
func TestMassDisconnectPacedAndCapped(t *testing.T) {
	if testing.Short() {
		t.Skip("long: 2,000 clients")
	}
	svc := wstest.NewService(t)
	var inFlight, peak atomic.Int32
	svc.On("/on_unsubscribe", func(map[string]any) (int, any) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		inFlight.Add(-1)
		return 200, `{"status":"ok"}`
	})
	cfg := testConfig(t)
	cfg.HTTP.MaxConcurrency = 4
	cfg.HTTP.CloseCallbacksPerSecond = 1000
	s := open()
	s.OnUnsubscribe = svc.URL("/on_unsubscribe")
	cfg.Services["books"] = s
	h := newHarness(t, cfg)

	const n = 2000
	clients := subscribeMany(t, h.wsURL(""), n, 50, func(i int) string { return fmt.Sprintf("books.b%d", i%100) })
	if t.Failed() {
		return
	}
	start := time.Now()
	for _, c := range clients {
		c.CloseNow()
	}
	wstest.Eventually(t, 30*time.Second, "every on_unsubscribe", func() bool { return len(svc.Calls("/on_unsubscribe")) == n })
	took := time.Since(start)
	if p := peak.Load(); p > 4 {
		t.Errorf("peak callbacks in flight = %d, want <= max_concurrency 4", p)
	}
	// 2,000 calls at 1,000/s, less the limiter's burst of 1,000: about a second.
	if took < 700*time.Millisecond {
		t.Errorf("2,000 close callbacks took %s; pacing at 1,000/s needs about 1 s", took)
	}
	t.Logf("2,000 on_unsubscribe in %s, peak in flight %d", took, peak.Load())
}

// TestRedisAlt: a second Redis with its own prefix is subscribed in
// parallel and messages from either are delivered.
func TestRedisAlt(t *testing.T) {
	t.Parallel()
	alt := testredis.Start(t)
	cfg := testConfig(t)
	cfg.RedisAlt = &services.Redis{URL: alt.URL(), ChannelPrefix: "alt:", PingInterval: cfg.Redis.PingInterval, PingTimeout: cfg.Redis.PingTimeout}
	cfg.Services["books"] = open()
	h := newHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b","status":"ok"}`)
	h.publish("books.b", `{"subscription":"books.b","data":"main"}`)
	c.Expect(`{"event":"message","subscription":"books.b","data":"main"}`)
	altClient := alt.Client(t)
	if err := altClient.Publish(context.Background(), "alt:books.b", `{"subscription":"books.b","data":"alt"}`).Err(); err != nil {
		t.Fatal(err)
	}
	c.Expect(`{"event":"message","subscription":"books.b","data":"alt"}`)
	c.Send(`{"event":"unsubscribe","subscription":"books.b"}`)
	c.Expect(`{"event":"unsubscribe","subscription":"books.b","status":"ok"}`)
	wstest.Eventually(t, 5*time.Second, "both released", func() bool {
		res, err := altClient.PubSubNumSub(context.Background(), "alt:books.b").Result()
		return err == nil && res["alt:books.b"] == 0 && h.numsub("books.b") == 0
	})
}

// TestKeepaliveDropsSilentClient: a client that does not answer pings is
// dropped within ping_timeout and its subscriptions end as on a normal
// close; a client that answers is pinged every ping_interval and kept.
func TestKeepaliveDropsSilentClient(t *testing.T) {
	t.Parallel()
	const interval, timeout = 15 * time.Second, 10 * time.Second
	cases := []struct {
		name      string
		answering bool
	}{
		{"answering", true},
		{"silent", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc := wstest.NewService(t)
			cfg := testConfig(t)
			cfg.WebSocket.PingInterval = services.Duration(interval)
			cfg.WebSocket.PingTimeout = services.Duration(timeout)
			s := open()
			s.OnUnsubscribe = svc.URL("/on_unsubscribe")
			cfg.Services["books"] = s
			clk := manualClock()
			h := newHarnessWith(t, cfg, Options{Clock: clk})
			// waitNext waits until the session's only timer is due in d:
			// the next ping (interval) or the pong's deadline (timeout).
			waitNext := func(d time.Duration) {
				t.Helper()
				wstest.Eventually(t, 5*time.Second, fmt.Sprintf("a timer due in %s", d), func() bool {
					next, ok := clk.Next()
					return ok && next == d && clk.Pending() == 1
				})
			}
			if tc.answering {
				c := h.dial() // reads in the background, so it answers pings
				c.Send(`{"event":"subscribe","subscription":"books.a"}`)
				c.Expect(`{"event":"subscribe","subscription":"books.a","status":"ok"}`)
				for range 3 {
					waitNext(interval)
					clk.Advance(interval) // a ping goes out; the pong stops its deadline
				}
				waitNext(interval)
				c.Send(`{"event":"ping","data":"alive"}`)
				c.Expect(`{"event":"pong","data":"alive"}`)
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			silent, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.srv.URL, "http"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer silent.CloseNow()
			_ = silent.Write(ctx, websocket.MessageText, []byte(`{"event":"subscribe","subscription":"books.s"}`))
			wstest.Eventually(t, 5*time.Second, "subscribed", func() bool { return h.subscriptions("books.s") == 1 })
			waitNext(interval)
			clk.Advance(interval)
			waitNext(timeout) // the ping is out; nobody reads it
			if n := len(svc.Calls("/on_unsubscribe")); n != 0 {
				t.Fatalf("unsubscribed before ping_timeout: %d calls", n)
			}
			clk.Advance(timeout)
			wstest.Eventually(t, 5*time.Second, "silent client dropped and unsubscribed", func() bool {
				calls := svc.Calls("/on_unsubscribe")
				return len(calls) == 1 && calls[0].Body["subscription"] == "books.s"
			})
		})
	}
}

// TestEventBacklogCloses1008: a client that keeps sending while its events
// wait on a slow callback is closed once 1,024 are waiting.
func TestEventBacklogCloses1008(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	release := make(chan struct{})
	svc.On("/on_message", func(map[string]any) (int, any) {
		<-release
		return 200, `{"status":"ok"}`
	})
	defer close(release)
	cfg := testConfig(t)
	s := open()
	s.OnMessage = svc.URL("/on_message")
	cfg.Services["books"] = s
	h := newHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b","status":"ok"}`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range maxQueuedEvents + 10 {
		if err := c.Conn().Write(ctx, websocket.MessageText, []byte(`{"event":"message","subscription":"books.b","data":1}`)); err != nil {
			break // closed by the router
		}
	}
	if got := c.Closed(); got != websocket.StatusPolicyViolation {
		t.Fatalf("close status = %d, want 1008", got)
	}
}

// TestPipelinedEventsAreNotSlowConsumers: a client that sends many events
// at once but reads its replies gets every reply, even with a send queue
// far smaller than the burst; replies wait for room instead of dropping it.
func TestPipelinedEventsAreNotSlowConsumers(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.WebSocket.SendQueue = 4
	cfg.Services["books"] = open()
	h := newHarness(t, cfg)
	c := h.dial()
	var frames []string
	for i := range 40 {
		frames = append(frames, fmt.Sprintf(`{"event":"ping","data":"%d"}`, i))
	}
	for i := range 10 {
		frames = append(frames, fmt.Sprintf(`{"event":"subscribe","subscription":"books.p%d"}`, i))
	}
	for _, f := range frames {
		c.Send(f)
	}
	for i := range 40 {
		c.Expect(fmt.Sprintf(`{"event":"pong","data":"%d"}`, i))
	}
	for i := range 10 {
		c.Expect(fmt.Sprintf(`{"event":"subscribe","subscription":"books.p%d","status":"ok"}`, i))
	}
	if got := counterValue(t, h.r.metrics.Dropped.WithLabelValues("slow_consumer")); got != 0 {
		t.Fatalf("slow consumer drops = %v, want 0", got)
	}
}

// TestShutdownSpreadsCloses: a shutdown closes clients with 1001 in
// batches spread over about two seconds, not all in the same instant.
func TestShutdownSpreadsCloses(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	h := newHarness(t, cfg)
	const n = 200
	clients := make([]*wstest.Client, n)
	for i := range clients {
		clients[i] = h.dial()
		clients[i].Send(`{"event":"ping"}`)
		clients[i].Expect(`{"event":"pong","data":null}`)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go h.r.Shutdown(ctx)
	var first, last time.Time
	for _, c := range clients {
		if code := c.Closed(); code != websocket.StatusGoingAway {
			t.Fatalf("close status = %d, want 1001", code)
		}
	}
	for _, c := range clients { // when each client's reader saw its close
		at, _ := c.Ended()
		if first.IsZero() || at.Before(first) {
			first = at
		}
		if at.After(last) {
			last = at
		}
	}
	if spread := last.Sub(first); spread < time.Second {
		t.Fatalf("%d closes spread over %s; want them in batches over about 2 s", n, spread)
	}
}
