package router

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/control"
	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/services"
)

func renewingService(svc *wstest.Service, period time.Duration) *services.Service {
	return &services.Service{
		RequireAuthentication:      new(bool),
		Authorizer:                 svc.URL("/authorize"),
		AuthorizerFields:           []string{"level"},
		AuthorizationRenewalPeriod: services.Duration(period),
		AuthorizationRenewalJitter: services.Duration(period / 4),
		ExtraFields:                []string{"org"},
		BeforeUnsubscribe:          svc.URL("/before_unsubscribe"),
		OnUnsubscribe:              svc.URL("/on_unsubscribe"),
		OnAuthorizationChange:      svc.URL("/on_authorization_change"),
	}
}

func TestRenewalRefusedEndsSubscription(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	var calls atomic.Int32
	svc.On("/authorize", func(map[string]any) (int, any) {
		if calls.Add(1) == 1 {
			return 200, `{"status":"ok","level":1}`
		}
		return 200, `{"status":"error","error":"Access revoked."}`
	})
	svc.Answer("/before_unsubscribe", 200, `{"status":"ok","data":{"reason":"revoked"}}`)
	const period = 5 * time.Minute
	cfg := testConfig(t)
	cfg.Services["books"] = renewingService(svc, period)
	h, clk := newManualHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b","org":9}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b","status":"ok","org":9}`)
	// The renewal is due within the period, less a part of the jitter.
	if d := nextCall(t, clk); d <= period-period/4 || d > period {
		t.Fatalf("renewal due in %s; want in (%s, %s]", d, period-period/4, period)
	}
	fireNext(t, clk)
	c.Expect(`{"event":"unsubscribe","subscription":"books.b","error":"Access revoked.","org":9,"data":{"reason":"revoked"}}`)
	wstest.Eventually(t, 5*time.Second, "on_unsubscribe", func() bool { return len(svc.Calls("/on_unsubscribe")) == 1 })
	wstest.Eventually(t, 5*time.Second, "channel released", func() bool { return h.numsub("books.b") == 0 })
	h.publish("books.b", `{"subscription":"books.b","data":1}`)
	c.Quiet(100 * time.Millisecond)
	if got := svc.Calls("/authorize")[1].Raw; !control.JSONEqual([]byte(got), []byte(`{"subscription":"books.b","org":9,"level":1}`)) {
		t.Errorf("renewal body = %s", got)
	}
}

func TestRenewalUnreachableKeepsSubscription(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	var calls atomic.Int32
	svc.On("/authorize", func(map[string]any) (int, any) {
		switch calls.Add(1) {
		case 1:
			return 200, `{"status":"ok","level":1}`
		case 2, 3:
			return 503, `down`
		}
		return 200, `{"status":"ok","level":2}`
	})
	cfg := testConfig(t)
	cfg.HTTP.Tries = 1
	cfg.Services["books"] = renewingService(svc, time.Minute)
	h, clk := newManualHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b","status":"ok"}`)
	for range 3 { // two unreachable answers, then changed fields
		fireNext(t, clk)
	}
	wstest.Eventually(t, 5*time.Second, "authorization change", func() bool { return len(svc.Calls("/on_authorization_change")) == 1 })
	if got := svc.Calls("/on_authorization_change")[0].Raw; !control.JSONEqual([]byte(got), []byte(`{"subscription":"books.b","level":2}`)) {
		t.Errorf("on_authorization_change body = %s", got)
	}
	h.publish("books.b", `{"subscription":"books.b","data":"still"}`)
	c.Expect(`{"event":"message","subscription":"books.b","data":"still"}`)
	if n := len(svc.Calls("/on_unsubscribe")); n != 0 {
		t.Fatalf("on_unsubscribe called %d times; an unreachable authorizer must keep the subscription", n)
	}
	// Unchanged fields on the next renewals: no further change callback.
	fireNext(t, clk)
	fireNext(t, clk)
	nextCall(t, clk) // the last answer was applied: the renewal is armed again
	if n := calls.Load(); n != 6 {
		t.Fatalf("authorizer called %d times, want 6", n)
	}
	if n := len(svc.Calls("/on_authorization_change")); n != 1 {
		t.Fatalf("on_authorization_change called %d times for unchanged fields", n)
	}
}

func TestHeartbeat(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	var beats atomic.Int32
	svc.On("/heartbeat", func(map[string]any) (int, any) {
		if beats.Add(1) == 2 {
			return 500, `fail`
		}
		return 200, `{"status":"ok"}`
	})
	cfg := testConfig(t)
	cfg.HTTP.Tries = 1
	const period = 30 * time.Second
	s := open()
	s.HeartbeatPeriod = services.Duration(period)
	s.OnHeartbeat = svc.URL("/heartbeat")
	cfg.Services["books"] = s
	h, clk := newManualHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b","status":"ok"}`)
	if d := nextCall(t, clk); d >= period { // the first after a random part of one period
		t.Fatalf("first heartbeat due in %s; want less than %s", d, period)
	}
	fireNext(t, clk)
	for range 3 {
		if d := nextCall(t, clk); d != period {
			t.Fatalf("next heartbeat due in %s; want %s", d, period)
		}
		fireNext(t, clk)
	}
	if n := beats.Load(); n != 4 {
		t.Fatalf("%d heartbeats, want 4", n)
	}
	if got := counterValue(t, h.r.metrics.HeartbeatFailures); got != 1 {
		t.Errorf("heartbeat failures = %v, want 1", got)
	}
	if got := svc.Calls("/heartbeat")[0].Raw; got != `{"subscription":"books.b"}` {
		t.Errorf("heartbeat body = %s", got)
	}
	c.Send(`{"event":"unsubscribe","subscription":"books.b"}`)
	c.Expect(`{"event":"unsubscribe","subscription":"books.b","status":"ok"}`)
	if n := clk.Pending(); n != 0 {
		t.Fatalf("%d timers armed after unsubscribe", n)
	}
	clk.Advance(3 * period)
	if got := beats.Load(); got != 4 {
		t.Fatalf("heartbeats went on after unsubscribe: 4 -> %d", got)
	}
}

// TestHeartbeatRealClock is the end-to-end check of the timers on the real
// clock: a short heartbeat period, waited for.
func TestHeartbeatRealClock(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	cfg := testConfig(t)
	s := open()
	s.HeartbeatPeriod = services.Duration(50 * time.Millisecond)
	s.OnHeartbeat = svc.URL("/heartbeat")
	cfg.Services["books"] = s
	h := newHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b","status":"ok"}`)
	wstest.Eventually(t, 5*time.Second, "two heartbeats", func() bool { return len(svc.Calls("/heartbeat")) >= 2 })
}

// TestTimersAndGoroutinesReturnToBaseline subscribes and unsubscribes many
// times with renewal, heartbeat and throttled messages pending, and closes
// connections mid-throttle: timers and goroutines must all end.
func TestTimersAndGoroutinesReturnToBaseline(t *testing.T) {
	if testing.Short() {
		t.Skip("long: many subscriptions")
	}
	svc := wstest.NewService(t)
	cfg := testConfig(t)
	s := open()
	s.Authorizer = svc.URL("/authorize")
	s.AuthorizationRenewalPeriod = services.Duration(time.Hour)
	s.AuthorizationRenewalJitter = services.Duration(time.Minute)
	s.HeartbeatPeriod = services.Duration(time.Hour)
	s.OnHeartbeat = svc.URL("/heartbeat")
	cfg.Services["books"] = s
	h, clk := newManualHarness(t, cfg)
	time.Sleep(100 * time.Millisecond)
	baseline := runtime.NumGoroutine()

	const conns, rounds = 20, 500 // 10,000 subscribe/unsubscribe pairs
	clients := make([]*wstest.Client, conns)
	for i := range clients {
		clients[i] = h.dial()
	}
	done := make(chan struct{})
	for i, c := range clients {
		go func() {
			defer func() { done <- struct{}{} }()
			for r := range rounds {
				name := "books.t" + string(rune('a'+i%26))
				c.Send(`{"event":"subscribe","subscription":"` + name + `"}`)
				if b := c.Next(); !control.JSONEqual(b, []byte(`{"event":"subscribe","subscription":"`+name+`","status":"ok"}`)) {
					t.Errorf("round %d: %s", r, b)
					return
				}
				c.Send(`{"event":"unsubscribe","subscription":"` + name + `"}`)
				for {
					b := c.Next()
					if control.JSONEqual(b, []byte(`{"event":"unsubscribe","subscription":"`+name+`","status":"ok"}`)) {
						break
					}
				}
			}
		}()
	}
	for range clients {
		<-done
	}
	if got := clk.Pending(); got != 0 {
		t.Fatalf("timers armed after every unsubscribe: %d", got)
	}
	// Leave throttled messages pending and close mid-throttle.
	for _, c := range clients {
		c.Send(`{"event":"subscribe","subscription":"books.x"}`)
		c.Expect(`{"event":"subscribe","subscription":"books.x","status":"ok"}`)
	}
	for i := range 3 {
		h.publish("books.x", `{"subscription":"books.x","data":`+string(rune('0'+i))+`,"options":{"throttle":60}}`)
	}
	for _, c := range clients {
		c.Expect(`{"event":"message","subscription":"books.x","data":0}`)
		c.CloseNow()
	}
	wstest.Eventually(t, 10*time.Second, "sessions closed", func() bool {
		h.r.mu.Lock()
		defer h.r.mu.Unlock()
		return len(h.r.sessions) == 0
	})
	if got := clk.Pending(); got != 0 {
		t.Fatalf("timers after closing: %d", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseline+2 {
		h.r.cb.Load().CloseIdleConnections() // pooled keep-alive callback connections are not leaks
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d, baseline %d\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
