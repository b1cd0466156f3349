package router

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"weak"

	"github.com/coder/websocket"

	"github.com/wsrouter/wsrouter/control"
	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/services"
)

// epochReset is a reset header value a service may mean as a Unix time
// (year 5138), not as a number of seconds.
const epochReset = "99999999999"

// TestRateLimitedServiceDoesNotStallOthersCloseCallbacks: a service that
// answers every on_unsubscribe with 429 and a far-off reset header holds
// only its own share of the close queue; another service's on_unsubscribe
// is still called. The retry waits are long (tries × timeout = 20 s), so
// only fairness, not their cap, lets the other service through in time.
func TestRateLimitedServiceDoesNotStallOthersCloseCallbacks(t *testing.T) {
	t.Parallel()
	limited := wstest.NewService(t)
	limited.SetHeader("X-Rate-Limit-Reset", epochReset)
	limited.Answer("/on_unsubscribe", 429, `{}`)
	healthy := wstest.NewService(t)

	cfg := testConfig(t)
	cfg.HTTP.MaxConcurrency = 4
	cfg.HTTP.Timeout = services.Duration(10 * time.Second)
	cfg.HTTP.Tries = 2
	for name, svc := range map[string]*wstest.Service{"limited": limited, "healthy": healthy} {
		s := open()
		s.OnUnsubscribe = svc.URL("/on_unsubscribe")
		cfg.Services[name] = s
	}
	h := newHarness(t, cfg)

	c := h.dial()
	const n = 16 // four times max_concurrency
	for i := range n {
		c.Send(fmt.Sprintf(`{"event":"subscribe","subscription":"limited.l%d"}`, i))
		c.Expect(fmt.Sprintf(`{"event":"subscribe","subscription":"limited.l%d","status":"ok"}`, i))
	}
	c.CloseNow()
	wstest.Eventually(t, 10*time.Second, "the rate-limited service's first answers", func() bool {
		return len(limited.Calls("/on_unsubscribe")) >= 2
	})

	other := h.dial()
	other.Send(`{"event":"subscribe","subscription":"healthy.h"}`)
	other.Expect(`{"event":"subscribe","subscription":"healthy.h","status":"ok"}`)
	other.CloseNow()
	wstest.Eventually(t, 8*time.Second, "the healthy service's on_unsubscribe", func() bool {
		return len(healthy.Calls("/on_unsubscribe")) == 1
	})
}

// TestRateLimitResetWaitIsCapped: an epoch-style reset header does not make
// a callback wait for hours, neither for a client waiting on its subscribe
// nor in the close queue: each wait ends within tries × timeout.
func TestRateLimitResetWaitIsCapped(t *testing.T) {
	t.Parallel()
	limited := wstest.NewService(t)
	limited.SetHeader("X-Rate-Limit-Reset", epochReset)
	limited.Answer("/authorize", 429, `{}`)
	limited.Answer("/on_unsubscribe", 429, `{}`)

	cfg := testConfig(t)
	cfg.HTTP.Timeout = services.Duration(300 * time.Millisecond)
	cfg.HTTP.Tries = 2
	guarded := open()
	guarded.Authorizer = limited.URL("/authorize")
	cfg.Services["guarded"] = guarded
	closing := open()
	closing.OnUnsubscribe = limited.URL("/on_unsubscribe")
	cfg.Services["closing"] = closing
	h := newHarness(t, cfg)

	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"guarded.g"}`)
	select {
	case got := <-c.Frames():
		want := `{"event":"subscribe","subscription":"guarded.g","status":"error","error":"Service unavailable."}`
		if !control.JSONEqual(got, []byte(want)) {
			t.Fatalf("got %s, want %s", got, want)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("subscribe still waiting on the 429 reset header after 15 s")
	}
	if n := len(limited.Calls("/authorize")); n != 2 {
		t.Errorf("authorizer tries = %d, want 2", n)
	}

	c.Send(`{"event":"subscribe","subscription":"closing.c"}`)
	c.Expect(`{"event":"subscribe","subscription":"closing.c","status":"ok"}`)
	c.CloseNow()
	wstest.Eventually(t, 15*time.Second, "both tries of on_unsubscribe", func() bool {
		return len(limited.Calls("/on_unsubscribe")) == 2
	})
}

// TestHungAuthorizerLeavesOtherServicesTheirShare: while many clients loop
// on subscribes whose authorizer hangs, subscribes to a healthy service
// still get their answer: the hung service holds at most its share of
// http.max_concurrency, never every slot.
func TestHungAuthorizerLeavesOtherServicesTheirShare(t *testing.T) {
	t.Parallel()
	hung := wstest.NewService(t)
	release := make(chan struct{})
	var hanging atomic.Int32
	hung.On("/authorize", func(map[string]any) (int, any) {
		hanging.Add(1)
		defer hanging.Add(-1)
		<-release
		return 200, `{"status":"ok"}`
	})
	healthy := wstest.NewService(t)

	cfg := testConfig(t)
	cfg.HTTP.MaxConcurrency = 8
	cfg.HTTP.Timeout = services.Duration(10 * time.Second) // longer than a healthy subscribe may wait
	cfg.HTTP.Tries = 1
	for name, svc := range map[string]*wstest.Service{"hung": hung, "healthy": healthy} {
		s := open()
		s.Authorizer = svc.URL("/authorize")
		cfg.Services[name] = s
	}
	h := newHarness(t, cfg)
	defer close(release) // before the services close: their handlers return

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	const loopers = 60
	for i := range loopers {
		c := h.dial()
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				msg := fmt.Sprintf(`{"event":"subscribe","subscription":"hung.c%d_%d"}`, i, n)
				if c.Conn().Write(ctx, websocket.MessageText, []byte(msg)) != nil {
					return
				}
				select {
				case <-c.Frames(): // Service unavailable., after the timeout
				case <-c.Done():
					return
				case <-ctx.Done():
					return
				}
			}
		})
	}
	wstest.Eventually(t, 10*time.Second, "the hung authorizer's share of calls in flight", func() bool {
		return hanging.Load() >= 4
	})

	c := h.dial()
	for i := range 20 {
		c.Send(fmt.Sprintf(`{"event":"subscribe","subscription":"healthy.h%d"}`, i))
		c.Expect(fmt.Sprintf(`{"event":"subscribe","subscription":"healthy.h%d","status":"ok"}`, i))
	}
	if n := hanging.Load(); n > 4 {
		t.Errorf("hung service has %d calls in flight, want at most its share of 4", n)
	}
}

// TestCloseQueueHoldsNoSession: unsubscribe callbacks waiting in the close
// queue keep only what they need; the closed session, with its buffers and
// maps, is garbage as soon as it has been torn down.
func TestCloseQueueHoldsNoSession(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	release := make(chan struct{})
	svc.On("/on_unsubscribe", func(map[string]any) (int, any) {
		<-release
		return 200, `{"status":"ok"}`
	})
	cfg := testConfig(t)
	cfg.HTTP.MaxConcurrency = 2
	s := open()
	s.OnUnsubscribe = svc.URL("/on_unsubscribe")
	cfg.Services["books"] = s
	h := newHarness(t, cfg)
	defer close(release) // before the service closes: its handlers return

	c := h.dial()
	const n = 20
	for i := range n {
		c.Send(fmt.Sprintf(`{"event":"subscribe","subscription":"books.b%d"}`, i))
		c.Expect(fmt.Sprintf(`{"event":"subscribe","subscription":"books.b%d","status":"ok"}`, i))
	}
	gone := func() weak.Pointer[session] {
		h.r.mu.Lock()
		defer h.r.mu.Unlock()
		for s := range h.r.sessions {
			return weak.Make(s)
		}
		t.Fatal("no session")
		return weak.Pointer[session]{}
	}()
	c.CloseNow()
	wstest.Eventually(t, 10*time.Second, "the session torn down, its callbacks queued", func() bool {
		h.r.mu.Lock()
		sessions := len(h.r.sessions)
		h.r.mu.Unlock()
		h.r.closeQueue.mu.Lock()
		queued := h.r.closeQueue.queued
		h.r.closeQueue.mu.Unlock()
		return sessions == 0 && queued == n-1 && len(svc.Calls("/on_unsubscribe")) == 1
	})
	wstest.Eventually(t, 10*time.Second, "the session collected", func() bool {
		runtime.GC()
		return gone.Value() == nil
	})
}

// TestMaxConcurrencyHoldsAcrossReload: a reload that changes the http
// section builds a new callback client; the calls of the old one still in
// flight and the new one's together stay within http.max_concurrency.
func TestMaxConcurrencyHoldsAcrossReload(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	release := make(chan struct{})
	var inFlight, peak atomic.Int32
	svc.On("/authorize", func(map[string]any) (int, any) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		raise(&peak, n)
		<-release
		return 200, `{"status":"ok"}`
	})
	cfg := testConfig(t)
	cfg.HTTP.MaxConcurrency = 4
	cfg.HTTP.Timeout = services.Duration(20 * time.Second)
	cfg.HTTP.Tries = 1
	for _, name := range []string{"a", "b"} { // two services, so that together they can fill the cap
		s := open()
		s.Authorizer = svc.URL("/authorize")
		cfg.Services[name] = s
	}
	h := newHarness(t, cfg)
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	subscribe := func(round int) []*wstest.Client {
		var cs []*wstest.Client
		for i := range 6 {
			for _, name := range []string{"a", "b"} {
				c := h.dial()
				c.Send(fmt.Sprintf(`{"event":"subscribe","subscription":"%s.r%d_%d"}`, name, round, i))
				cs = append(cs, c)
			}
		}
		return cs
	}
	before := subscribe(0)
	wstest.Eventually(t, 10*time.Second, "the cap filled", func() bool { return inFlight.Load() == 4 })

	next := *cfg
	next.HTTP.Wait = services.Duration(20 * time.Millisecond) // a new http section: a new client
	if err := h.r.Reload(&next); err != nil {
		t.Fatal(err)
	}
	if h.r.cb.Load() == nil {
		t.Fatal("no callback client after the reload")
	}
	after := subscribe(1)
	wstest.Eventually(t, 10*time.Second, "the new client's calls waiting too, or going past the cap", func() bool {
		return h.r.gate.Waiting() == len(before)+len(after)-4 || inFlight.Load() > 4
	})
	if n := inFlight.Load(); n != 4 {
		t.Errorf("in flight after the reload = %d, want max_concurrency 4", n)
	}
	close(release)
	for _, c := range append(before, after...) {
		if got := c.Next(); !strings.Contains(string(got), `"status":"ok"`) {
			t.Errorf("subscribe answer %s, want ok", got)
		}
	}
	if p := peak.Load(); p > 4 {
		t.Errorf("peak callbacks in flight = %d, want at most max_concurrency 4", p)
	}
}

// raise makes peak at least n.
func raise(peak *atomic.Int32, n int32) {
	for {
		p := peak.Load()
		if n <= p || peak.CompareAndSwap(p, n) {
			return
		}
	}
}
