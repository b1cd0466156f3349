package router

import (
	"fmt"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/services"
)

// TestFieldFilters: a message carrying a filter field reaches only
// subscriptions whose own value (extra, then authorizer, then auth field)
// is equal as JSON.
func TestFieldFilters(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	svc.On("/ticket", func(b map[string]any) (int, any) {
		return 200, fmt.Sprintf(`{"status":"ok","user_id":%v}`, b["ticket"])
	})
	svc.On("/authorize", func(b map[string]any) (int, any) {
		return 200, fmt.Sprintf(`{"status":"ok","team":"t%v"}`, b["user_id"])
	})
	cfg := ticketConfig(t, svc)
	cfg.Services["books"] = &services.Service{
		Authorizer:       svc.URL("/authorize"),
		AuthorizerFields: []string{"team"},
		ExtraFields:      []string{"org"},
		FilterFields:     []string{"user_id", "org", "team"},
	}
	h := newHarness(t, cfg)
	subscribe := func(user, org string) *wstest.Client {
		c := h.dial()
		c.Send(`{"event":"auth","ticket":"` + user + `"}`)
		c.Expect(`{"event":"auth","status":"ok"}`)
		c.Send(`{"event":"subscribe","subscription":"books.b","org":` + org + `}`)
		c.Expect(`{"event":"subscribe","subscription":"books.b","status":"ok","org":` + org + `}`)
		return c
	}
	u1 := subscribe("1", "10")
	u2 := subscribe("2", `"10"`)

	h.publish("books.b", `{"subscription":"books.b","data":"to-user-1","user_id":1}`)
	u1.Expect(`{"event":"message","subscription":"books.b","data":"to-user-1","org":10}`)
	h.publish("books.b", `{"subscription":"books.b","data":"user-1.0","user_id":1.0}`)
	u1.Expect(`{"event":"message","subscription":"books.b","data":"user-1.0","org":10}`)
	h.publish("books.b", `{"subscription":"books.b","data":"string-1","user_id":"1"}`)
	h.publish("books.b", `{"subscription":"books.b","data":"org-number","org":10}`)
	u1.Expect(`{"event":"message","subscription":"books.b","data":"org-number","org":10}`)
	h.publish("books.b", `{"subscription":"books.b","data":"org-string","org":"10"}`)
	u2.Expect(`{"event":"message","subscription":"books.b","data":"org-string","org":"10"}`)
	h.publish("books.b", `{"subscription":"books.b","data":"team-2","team":"t2"}`)
	u2.Expect(`{"event":"message","subscription":"books.b","data":"team-2","org":"10"}`)
	h.publish("books.b", `{"subscription":"books.b","data":"nobody","team":"t3"}`)
	h.publish("books.b", `{"subscription":"books.b","data":"all"}`)
	u1.Expect(`{"event":"message","subscription":"books.b","data":"all","org":10}`)
	u2.Expect(`{"event":"message","subscription":"books.b","data":"all","org":"10"}`)
	u1.Quiet(100 * time.Millisecond)
	u2.Quiet(0)
}

func TestOrderOption(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	svc.Answer("/before_subscribe", 200, `{"status":"ok","options":{"order":5}}`)
	cfg := testConfig(t)
	s := open()
	s.BeforeSubscribe = svc.URL("/before_subscribe")
	cfg.Services["books"] = s
	h := newHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b","status":"ok"}`)
	pub := func(data string, opts string) {
		h.publish("books.b", `{"subscription":"books.b","data":"`+data+`","options":`+opts+`}`)
	}
	pub("seeded-out", `{"order":5}`)
	pub("six", `{"order":6}`)
	pub("equal", `{"order":6}`)
	pub("lower", `{"order":"2"}`)
	pub("string-7", `{"order":"7"}`)
	pub("fraction", `{"order":7.5}`)
	pub("key-a-first", `{"order":1,"order_key":"a"}`)
	pub("key-a-old", `{"order":0,"order_key":"a"}`)
	pub("null-key-is-default", `{"order":7,"order_key":null}`)
	pub("bad-order-ignored", `{"order":"soon"}`)
	pub("negative-new-key", `{"order":-3,"order_key":["x"]}`)
	for _, want := range []string{"six", "string-7", "fraction", "key-a-first", "bad-order-ignored", "negative-new-key"} {
		c.Expect(`{"event":"message","subscription":"books.b","data":"` + want + `"}`)
	}
	c.Quiet(100 * time.Millisecond)
}

func TestThrottleOption(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Services["books"] = open()
	h, clk := newManualHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b","status":"ok"}`)
	for i := range 5 {
		h.publish("books.b", fmt.Sprintf(`{"subscription":"books.b","data":%d,"options":{"throttle":0.4}}`, i))
	}
	h.publish("books.b", `{"subscription":"books.b","data":"other-key","options":{"throttle":0.4,"throttle_key":"k"}}`)
	c.Expect(`{"event":"message","subscription":"books.b","data":0}`)
	c.Expect(`{"event":"message","subscription":"books.b","data":"other-key"}`)
	wstest.Eventually(t, 5*time.Second, "messages 1 to 3 replaced", func() bool { return counterValue(t, h.r.drops.throttle) == 3 })
	if d := nextCall(t, clk); d != 400*time.Millisecond {
		t.Fatalf("the newest throttled message is due in %s, want the period (400ms)", d)
	}
	clk.Advance(400 * time.Millisecond)
	c.Expect(`{"event":"message","subscription":"books.b","data":4}`)
	clk.Advance(time.Second)
	c.Quiet(100 * time.Millisecond)
	if got := counterValue(t, h.r.drops.throttle); got != 3 {
		t.Fatalf("throttle drops = %v, want 3 (messages 1 to 3 replaced)", got)
	}
}

// TestThrottlePendingDiesWithSubscription: a pending throttled message is
// never sent after its subscription ended.
func TestThrottlePendingDiesWithSubscription(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Services["books"] = open()
	h, clk := newManualHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b","status":"ok"}`)
	h.publish("books.b", `{"subscription":"books.b","data":1,"options":{"throttle":0.3}}`)
	h.publish("books.b", `{"subscription":"books.b","data":2,"options":{"throttle":0.3}}`)
	c.Expect(`{"event":"message","subscription":"books.b","data":1}`)
	nextCall(t, clk) // message 2 waits for the period
	c.Send(`{"event":"unsubscribe","subscription":"books.b"}`)
	c.Expect(`{"event":"unsubscribe","subscription":"books.b","status":"ok"}`)
	if n := clk.Pending(); n != 0 {
		t.Fatalf("%d timers armed after unsubscribe", n)
	}
	clk.Advance(time.Second)
	c.Quiet(100 * time.Millisecond)
}
