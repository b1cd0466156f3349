package router

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/control"
	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/services"
)

// presenceService is a service whose member is the extra field "user".
func presenceService(events bool) *services.Service {
	s := open()
	s.ExtraFields = []string{"user"}
	s.Presence = true
	s.PresenceFields = []string{"user"}
	s.PresenceEvents = events
	return s
}

func TestPresenceEventsSkipFiltersAndCarryExtraFields(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	s := presenceService(true)
	s.FilterFields = []string{"user"} // a join names no user of the subscriber's own
	cfg.Services["chat"] = s
	h := newHarness(t, cfg)
	a := h.dial()
	a.Send(`{"event":"subscribe","subscription":"chat.r","user":"ann"}`)
	a.Expect(`{"event":"subscribe","subscription":"chat.r","status":"ok","user":"ann"}`)
	b := h.dial()
	b.Send(`{"event":"subscribe","subscription":"chat.r","user":"bob"}`)
	b.Expect(`{"event":"subscribe","subscription":"chat.r","status":"ok","user":"bob"}`)
	a.Expect(`{"event":"join","subscription":"chat.r","member":{"user":"bob"},"user":"ann"}`)
	b.Send(`{"event":"presence","subscription":"chat.r"}`)
	b.Expect(`{"event":"presence","subscription":"chat.r","status":"ok","members":[{"user":"ann"},{"user":"bob"}],"user":"bob"}`)
	b.CloseNow()
	a.Expect(`{"event":"leave","subscription":"chat.r","member":{"user":"bob"},"user":"ann"}`)
	// A publication of the same shape from a service, with data, is a
	// message, not a presence event.
	h.publish("chat.r", `{"event":"join","subscription":"chat.r","member":{"user":"x"},"data":1}`)
	a.Expect(`{"event":"message","subscription":"chat.r","data":1,"user":"ann"}`)
}

func TestPresenceEventsOffAreNotDelivered(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Services["chat"] = presenceService(false)
	h := newHarness(t, cfg)
	a := h.dial()
	a.Send(`{"event":"subscribe","subscription":"chat.r","user":"ann"}`)
	a.Expect(`{"event":"subscribe","subscription":"chat.r","status":"ok","user":"ann"}`)
	b := h.dial()
	b.Send(`{"event":"subscribe","subscription":"chat.r","user":"bob"}`)
	b.Expect(`{"event":"subscribe","subscription":"chat.r","status":"ok","user":"bob"}`)
	// Even a join published by another node is not delivered.
	h.publish("chat.r", `{"event":"join","subscription":"chat.r","member":{"user":"zed"}}`)
	h.publish("chat.r", `{"subscription":"chat.r","data":"after"}`)
	a.Expect(`{"event":"message","subscription":"chat.r","data":"after","user":"ann"}`)
	a.Send(`{"event":"presence","subscription":"chat.r"}`)
	a.Expect(`{"event":"presence","subscription":"chat.r","status":"ok","members":[{"user":"ann"},{"user":"bob"}],"user":"ann"}`)
}

func TestPresenceChurnReturnsToBaseline(t *testing.T) {
	if testing.Short() {
		t.Skip("long: many subscriptions")
	}
	cfg := testConfig(t)
	s := presenceService(true)
	s.HeartbeatPeriod = services.Duration(time.Hour)
	svc := wstest.NewService(t)
	s.OnHeartbeat = svc.URL("/heartbeat")
	cfg.Services["chat"] = s
	h, clk := newManualHarness(t, cfg)
	time.Sleep(100 * time.Millisecond)
	baseline := runtime.NumGoroutine()

	const conns, rounds = 20, 500 // 10,000 subscribe/unsubscribe pairs
	done := make(chan struct{})
	for i := range conns {
		c := h.dial()
		go func() {
			defer func() { done <- struct{}{} }()
			name := fmt.Sprintf("chat.r%d", i%4)
			await := func(want string) bool {
				for {
					b := c.Next()
					if control.JSONEqual(b, []byte(want)) {
						return true
					}
					var ev struct {
						Event string `json:"event"`
					}
					if json.Unmarshal(b, &ev) != nil || (ev.Event != "join" && ev.Event != "leave") {
						t.Errorf("unexpected frame %s", b)
						return false
					}
				}
			}
			for r := range rounds {
				user := fmt.Sprintf("u%d", (i+r)%5)
				c.Send(`{"event":"subscribe","subscription":"` + name + `","user":"` + user + `"}`)
				if !await(`{"event":"subscribe","subscription":"` + name + `","status":"ok","user":"` + user + `"}`) {
					return
				}
				c.Send(`{"event":"unsubscribe","subscription":"` + name + `"}`)
				if !await(`{"event":"unsubscribe","subscription":"` + name + `","status":"ok","user":"` + user + `"}`) {
					return
				}
			}
			c.CloseNow()
		}()
	}
	for range conns {
		<-done
	}
	if got := clk.Pending(); got != 0 {
		t.Fatalf("timers armed after every unsubscribe: %d", got)
	}
	if st := h.r.tracker.Stats(); st.Members != 0 {
		t.Fatalf("tracker still holds %d members", st.Members)
	}
	keys, err := h.rdb.Keys(context.Background(), h.prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Fatalf("Redis keys left after churn: %q", keys)
	}
	wstest.Eventually(t, 10*time.Second, "sessions closed", func() bool {
		h.r.mu.Lock()
		defer h.r.mu.Unlock()
		return len(h.r.sessions) == 0
	})
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseline+2 {
		h.r.cb.Load().CloseIdleConnections()
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d, baseline %d\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
