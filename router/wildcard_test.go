package router

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/services"
)

// patternSubscribed reports whether the hub holds the pattern of the
// wildcard subscription name.
func (h *harness) patternSubscribed(name string) bool { return h.hubChannel(name, true) != nil }

// heldBackPattern counts the messages held back for wildcard subscriptions
// to name that are not live yet.
func (h *harness) heldBackPattern(name string) int { return heldIn(h.hubChannel(name, true)) }

func wildcardConfig(t *testing.T) *services.Config {
	cfg := testConfig(t)
	cfg.Redis.ChannelPrefix = "w[" + cfg.Redis.ChannelPrefix // glob characters in the prefix are escaped too
	s := open()
	s.WildcardSubscriptions = true
	s.ExtraFields = []string{"tag"}
	s.FilterFields = []string{"user_id"}
	cfg.Services["chat"] = s
	cfg.Services["news"] = open()
	return cfg
}

func pub(name string, data any) string {
	return fmt.Sprintf(`{"subscription":%q,"data":%v}`, name, data)
}

// TestWildcardSubscription: a wildcard subscription receives every
// matching name's messages with "channel", next to an exact subscription
// to one of them (which gets its own copy); other names, and glob
// characters other than '*', do not match.
func TestWildcardSubscription(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wildcardConfig(t))
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"chat.*","tag":"all"}`)
	c.Expect(`{"event":"subscribe","subscription":"chat.*","tag":"all","status":"ok"}`)
	c.Send(`{"event":"subscribe","subscription":"chat.room_1"}`)
	c.Expect(`{"event":"subscribe","subscription":"chat.room_1","status":"ok"}`)
	c.Send(`{"event":"subscribe","subscription":"chat.[ab]?*"}`)
	c.Expect(`{"event":"subscribe","subscription":"chat.[ab]?*","status":"ok"}`)

	for i := range 3 {
		h.publish("chat.room_1", pub("chat.room_1", i))
		h.publish(fmt.Sprintf("chat.r%d", i), pub(fmt.Sprintf("chat.r%d", i), i))
	}
	// Per name, in publish order; the exact copy and the wildcard copy of
	// chat.room_1 both arrive.
	got := map[string][]string{}
	for range 9 {
		var m struct {
			Subscription, Channel string
			Data                  int
			Tag                   string
		}
		frame := c.Next()
		if err := json.Unmarshal(frame, &m); err != nil {
			t.Fatal(err)
		}
		key := m.Subscription + " " + m.Channel
		got[key] = append(got[key], fmt.Sprint(m.Data))
		if m.Subscription == "chat.*" && m.Tag != "all" {
			t.Errorf("wildcard delivery without its extra field: %s", frame)
		}
	}
	want := map[string][]string{
		"chat.* chat.room_1": {"0", "1", "2"}, "chat.room_1 ": {"0", "1", "2"},
		"chat.* chat.r0": {"0"}, "chat.* chat.r1": {"1"}, "chat.* chat.r2": {"2"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("deliveries = %v\nwant %v", got, want)
	}

	// Only a literal "[ab]?" matches the third subscription.
	h.publish("chat.ax", pub("chat.ax", 1))
	c.Expect(`{"event":"message","subscription":"chat.*","channel":"chat.ax","tag":"all","data":1}`)
	h.publish("chat.[ab]?x", pub("chat.[ab]?x", 2))
	c.ExpectAnyOrder( // one copy per matching pattern, in Redis's order of patterns
		`{"event":"message","subscription":"chat.*","channel":"chat.[ab]?x","tag":"all","data":2}`,
		`{"event":"message","subscription":"chat.[ab]?*","channel":"chat.[ab]?x","data":2}`)
	// Another service, and a publication whose subscription is not its
	// channel's name, are not delivered.
	h.publish("news.x", pub("news.x", 1))
	h.publish("chat.y", pub("chat.z", 1))
	c.Quiet(150 * time.Millisecond)
}

// TestWildcardRefCounted: one PSUBSCRIBE per pattern however many hold it,
// and a PUNSUBSCRIBE after the last one leaves.
func TestWildcardRefCounted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wildcardConfig(t))
	a, b := h.dial(), h.dial()
	for _, c := range []*wstest.Client{a, b} {
		c.Send(`{"event":"subscribe","subscription":"chat.*"}`)
		c.Expect(`{"event":"subscribe","subscription":"chat.*","status":"ok"}`)
	}
	numpat := func() int64 {
		n, err := h.rdb.PubSubNumPat(context.Background()).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if !h.patternSubscribed("chat.*") {
		t.Fatal("pattern not in the table")
	}
	a.Send(`{"event":"unsubscribe","subscription":"chat.*"}`)
	a.Expect(`{"event":"unsubscribe","subscription":"chat.*","status":"ok"}`)
	h.publish("chat.x", pub("chat.x", 1))
	b.Expect(`{"event":"message","subscription":"chat.*","channel":"chat.x","data":1}`)
	before := numpat()
	b.Send(`{"event":"unsubscribe","subscription":"chat.*"}`)
	b.Expect(`{"event":"unsubscribe","subscription":"chat.*","status":"ok"}`)
	wstest.Eventually(t, 5*time.Second, "pattern released", func() bool { return !h.patternSubscribed("chat.*") && numpat() < before })
}

// TestWildcardFilters: the field filter, order and throttle apply per
// subscription, to the messages of every matching name.
func TestWildcardFilters(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	svc.Answer("/ticket", 200, `{"status":"ok","user_id":1}`)
	cfg := wildcardConfig(t)
	cfg.Authentication = &services.Authentication{Ticket: &services.Ticket{ValidationURL: svc.URL("/ticket"), AuthFields: []string{"user_id"}}}
	h, clk := newManualHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"auth","ticket":"t"}`)
	c.Expect(`{"event":"auth","status":"ok"}`)
	c.Send(`{"event":"subscribe","subscription":"chat.*"}`)
	c.Expect(`{"event":"subscribe","subscription":"chat.*","status":"ok"}`)

	h.publish("chat.a", `{"subscription":"chat.a","data":"other user","user_id":2}`)
	h.publish("chat.a", `{"subscription":"chat.a","data":"mine","user_id":1}`)
	c.Expect(`{"event":"message","subscription":"chat.*","channel":"chat.a","data":"mine"}`)

	h.publish("chat.a", `{"subscription":"chat.a","data":"o2","options":{"order":2,"order_key":"a"}}`)
	h.publish("chat.a", `{"subscription":"chat.a","data":"o1","options":{"order":1,"order_key":"a"}}`)
	h.publish("chat.b", `{"subscription":"chat.b","data":"o1b","options":{"order":1,"order_key":"b"}}`)
	c.ExpectAnyOrder( // names are fanned out in parallel; each keeps its own order
		`{"event":"message","subscription":"chat.*","channel":"chat.a","data":"o2"}`,
		`{"event":"message","subscription":"chat.*","channel":"chat.b","data":"o1b"}`)

	for i := range 3 {
		h.publish("chat.c", fmt.Sprintf(`{"subscription":"chat.c","data":"t%d","options":{"throttle":10}}`, i))
	}
	c.Expect(`{"event":"message","subscription":"chat.*","channel":"chat.c","data":"t0"}`)
	c.Quiet(100 * time.Millisecond)
	fireNext(t, clk)
	c.Expect(`{"event":"message","subscription":"chat.*","channel":"chat.c","data":"t2"}`)
}

// TestWildcardHoldBack: messages of matching names published while
// before_subscribe runs are held back and delivered after the ok reply,
// in order, once each.
func TestWildcardHoldBack(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	cfg := wildcardConfig(t)
	cfg.Services["chat"].BeforeSubscribe = svc.URL("/before_subscribe")
	h := newHarness(t, cfg)
	svc.On("/before_subscribe", func(body map[string]any) (int, any) {
		if body["subscription"] != "chat.*" {
			t.Errorf("before_subscribe saw %v, want the wildcard name", body["subscription"])
		}
		for i := range 3 {
			h.publish("chat.r1", pub("chat.r1", i))
		}
		for deadline := time.Now().Add(5 * time.Second); h.heldBackPattern("chat.*") < 3; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Error("the messages published during before_subscribe were not held back")
				break
			}
		}
		return 200, `{"status":"ok","data":"state"}`
	})
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"chat.*"}`)
	c.Expect(`{"event":"subscribe","subscription":"chat.*","status":"ok","data":"state"}`)
	for i := range 3 {
		c.Expect(fmt.Sprintf(`{"event":"message","subscription":"chat.*","channel":"chat.r1","data":%d}`, i))
	}
	h.publish("chat.r2", pub("chat.r2", `"after"`))
	c.Expect(`{"event":"message","subscription":"chat.*","channel":"chat.r2","data":"after"}`)
	c.Quiet(100 * time.Millisecond)
}

// TestStarWithoutWildcardOption: on a service without
// wildcard_subscriptions, '*' is an ordinary character.
func TestStarWithoutWildcardOption(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wildcardConfig(t))
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"news.*"}`)
	c.Expect(`{"event":"subscribe","subscription":"news.*","status":"ok"}`)
	h.publish("news.a", pub("news.a", 1))
	h.publish("news.*", pub("news.*", 2))
	c.Expect(`{"event":"message","subscription":"news.*","data":2}`)
	c.Quiet(100 * time.Millisecond)
	if h.patternSubscribed("news.*") {
		t.Error("a pattern was subscribed for a service without the option")
	}
}

// TestWildcardAllowed: an allowed pattern admits the wildcard names whose
// every match it allows, and no wider one.
func TestWildcardAllowed(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	svc.Answer("/ticket", 200, `{"status":"ok","allowed_subscriptions":["chat.room_*"]}`)
	cfg := wildcardConfig(t)
	cfg.Authentication = &services.Authentication{Ticket: &services.Ticket{ValidationURL: svc.URL("/ticket")}}
	cfg.Services["chat"].RequireAllowedSubscription = true
	h := newHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"auth","ticket":"t"}`)
	c.Expect(`{"event":"auth","status":"ok"}`)
	for name, ok := range map[string]bool{"chat.room_*": true, "chat.room_1*": true, "chat.*": false, "chat.*_1": false, "chat.r*": false} {
		c.Send(`{"event":"subscribe","subscription":"` + name + `"}`)
		if ok {
			c.Expect(`{"event":"subscribe","subscription":"` + name + `","status":"ok"}`)
		} else {
			c.Expect(`{"event":"subscribe","subscription":"` + name + `","status":"error","error":"Unauthorized."}`)
		}
	}
}

// TestWildcardSubscriptionsBounded: a session holds at most
// maxWildcardSubs wildcard subscriptions, each a pattern Redis matches
// every publish against; past them a wildcard subscribe is "Too many
// subscriptions." while exact names still subscribe, and an unsubscribe
// makes room again.
func TestWildcardSubscriptionsBounded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wildcardConfig(t))
	c := h.dial()
	for i := range maxWildcardSubs {
		c.Subscribe(fmt.Sprintf("chat.%d_*", i), nil)
	}
	c.Send(`{"event":"subscribe","subscription":"chat.x_*"}`)
	c.Expect(`{"event":"subscribe","subscription":"chat.x_*","status":"error","error":"Too many subscriptions."}`)
	c.Subscribe("chat.room_1", nil)
	c.Send(`{"event":"unsubscribe","subscription":"chat.0_*"}`)
	c.Expect(`{"event":"unsubscribe","subscription":"chat.0_*","status":"ok"}`)
	c.Subscribe("chat.x_*", nil)
	if got := h.patternSubscribed("chat.x_*"); !got {
		t.Fatal("chat.x_* is not subscribed in Redis")
	}
}
