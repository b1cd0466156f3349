package router

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/auth"
	"github.com/wsrouter/wsrouter/control"
	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/services"
)

// fullService configures every callback of a service on svc.
func fullService(svc *wstest.Service) *services.Service {
	return &services.Service{
		Authorizer:        svc.URL("/authorize"),
		AuthorizerFields:  []string{"role", "user_id"},
		ExtraFields:       []string{"org", "lang"},
		BeforeSubscribe:   svc.URL("/before_subscribe"),
		OnSubscribe:       svc.URL("/on_subscribe"),
		OnMessage:         svc.URL("/on_message"),
		BeforeUnsubscribe: svc.URL("/before_unsubscribe"),
		OnUnsubscribe:     svc.URL("/on_unsubscribe"),
	}
}

func TestSubscribeChecksInOrder(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	cfg := ticketConfig(t, svc)
	cfg.WebSocket.MaxSubscriptions = 2
	cfg.Services["books"] = &services.Service{ExtraFields: []string{"org"}}
	cfg.Services["open"] = open()
	h := newHarness(t, cfg)
	fmtErr := `"status":"error","error":"Invalid subscription format."`
	cases := []exchange{
		{"missing", `{"event":"subscribe"}`, `{"event":"subscribe",` + fmtErr + `}`},
		{"not a string", `{"event":"subscribe","subscription":5}`, `{"event":"subscribe","subscription":5,` + fmtErr + `}`},
		{"no dot", `{"event":"subscribe","subscription":"books"}`, `{"event":"subscribe","subscription":"books",` + fmtErr + `}`},
		{"empty service", `{"event":"subscribe","subscription":".b1"}`, `{"event":"subscribe","subscription":".b1",` + fmtErr + `}`},
		{"empty topic", `{"event":"subscribe","subscription":"books."}`, `{"event":"subscribe","subscription":"books.",` + fmtErr + `}`},
		{"empty name not echoed", `{"event":"subscribe","subscription":""}`, `{"event":"subscribe",` + fmtErr + `}`},
		{"null name not echoed", `{"event":"subscribe","subscription":null}`, `{"event":"subscribe",` + fmtErr + `}`},
		{"zero not echoed", `{"event":"subscribe","subscription":0}`, `{"event":"subscribe",` + fmtErr + `}`},
		{"format before service", `{"event":"subscribe","subscription":"nope"}`, `{"event":"subscribe","subscription":"nope",` + fmtErr + `}`},
		{"invalid service", `{"event":"subscribe","subscription":"nope.b1"}`, `{"event":"subscribe","subscription":"nope.b1","status":"error","error":"Invalid service."}`},
		{"auth required, extra echoed", `{"event":"subscribe","subscription":"books.b1","org":3,"junk":1}`, `{"event":"subscribe","subscription":"books.b1","org":3,"status":"error","error":"Authentication required."}`},
		{"message format", `{"event":"message","subscription":"x"}`, `{"event":"message","subscription":"x",` + fmtErr + `}`},
		{"message service", `{"event":"message","subscription":"x.y"}`, `{"event":"message","subscription":"x.y","status":"error","error":"Invalid service."}`},
		{"message not subscribed", `{"event":"message","subscription":"open.y","data":1}`, `{"event":"message","subscription":"open.y","status":"error","error":"Subscription does not exist."}`},
		{"unsubscribe format", `{"event":"unsubscribe","subscription":"x"}`, `{"event":"unsubscribe","subscription":"x",` + fmtErr + `}`},
		{"unsubscribe service", `{"event":"unsubscribe","subscription":"x.y"}`, `{"event":"unsubscribe","subscription":"x.y","status":"error","error":"Invalid service."}`},
		{"unsubscribe not subscribed", `{"event":"unsubscribe","subscription":"open.y"}`, `{"event":"unsubscribe","subscription":"open.y","status":"error","error":"Subscription does not exist."}`},
	}
	c := h.dial()
	exchanges(t, c, cases)
	c.Send(`{"event":"subscribe","subscription":"open.a"}`)
	c.Expect(`{"event":"subscribe","subscription":"open.a","status":"ok"}`)
	c.Send(`{"event":"subscribe","subscription":"open.a"}`)
	c.Expect(`{"event":"subscribe","subscription":"open.a","status":"error","error":"Already subscribed."}`)
	c.Send(`{"event":"subscribe","subscription":"open.b"}`)
	c.Expect(`{"event":"subscribe","subscription":"open.b","status":"ok"}`)
	c.Send(`{"event":"subscribe","subscription":"open.a"}`)
	c.Expect(`{"event":"subscribe","subscription":"open.a","status":"error","error":"Already subscribed."}`)
	c.Send(`{"event":"subscribe","subscription":"open.c"}`)
	c.Expect(`{"event":"subscribe","subscription":"open.c","status":"error","error":"Too many subscriptions."}`)
}

// TestSubscribeStepsAndBodies checks the callback order and the exact
// bodies: extra fields, then authorizer fields, then auth fields, later
// ones winning on a clash.
func TestSubscribeStepsAndBodies(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	svc.Answer("/ticket", 200, `{"status":"ok","user_id":"u1","session_id":"s1"}`)
	svc.Answer("/authorize", 200, `{"status":"ok","role":"admin","user_id":"from-authorizer","ignored":1}`)
	svc.Answer("/before_subscribe", 200, `{"status":"ok","data":{"state":"v1"}}`)
	cfg := ticketConfig(t, svc)
	cfg.Services["books"] = fullService(svc)
	h := newHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"auth","ticket":"t"}`)
	c.Expect(`{"event":"auth","status":"ok"}`)
	c.Send(`{"event":"subscribe","subscription":"books.b1","org":5,"lang":"en","user_id":"from-client","other":1}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b1","status":"ok","org":5,"lang":"en","data":{"state":"v1"}}`)
	wstest.Eventually(t, 5*time.Second, "on_subscribe", func() bool { return len(svc.Calls("/on_subscribe")) == 1 })
	if got, want := svc.Paths(), []string{"/ticket", "/authorize", "/before_subscribe", "/on_subscribe"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("callbacks = %v, want %v", got, want)
	}
	authzBody := `{"subscription":"books.b1","org":5,"lang":"en","user_id":"u1","session_id":"s1"}`
	fullBody := `{"subscription":"books.b1","org":5,"lang":"en","role":"admin","user_id":"u1","session_id":"s1"}`
	for path, want := range map[string]string{"/authorize": authzBody, "/before_subscribe": fullBody, "/on_subscribe": fullBody} {
		if got := svc.Calls(path)[0].Raw; !control.JSONEqual([]byte(got), []byte(want)) {
			t.Errorf("%s body = %s, want %s", path, got, want)
		}
	}

	// message: on_message gets data; the reply rules of SPEC 3.
	msgCases := []struct {
		name, answer, send, want string
		status                   int
	}{
		{"ok without data: no reply", `{"status":"ok"}`, `{"event":"message","subscription":"books.b1","data":{"x":1}}`, ``, 200},
		{"ok with data", `{"status":"ok","data":{"saved":true}}`, `{"event":"message","subscription":"books.b1","data":1}`, `{"event":"message","subscription":"books.b1","status":"ok","org":5,"lang":"en","data":{"saved":true}}`, 200},
		{"ok with null data", `{"status":"ok","data":null}`, `{"event":"message","subscription":"books.b1"}`, `{"event":"message","subscription":"books.b1","status":"ok","org":5,"lang":"en"}`, 200},
		{"error with text and data", `{"status":"error","error":"Read only.","data":{"why":"locked"}}`, `{"event":"message","subscription":"books.b1"}`, `{"event":"message","subscription":"books.b1","status":"error","error":"Read only.","org":5,"lang":"en","data":{"why":"locked"}}`, 200},
		{"error without text", `{"status":"error"}`, `{"event":"message","subscription":"books.b1"}`, `{"event":"message","subscription":"books.b1","status":"error","error":"Unhandled exception.","org":5,"lang":"en"}`, 200},
		{"4xx with error", `{"error":"Nope."}`, `{"event":"message","subscription":"books.b1"}`, `{"event":"message","subscription":"books.b1","status":"error","error":"Nope.","org":5,"lang":"en"}`, 403},
		{"service down", `oops`, `{"event":"message","subscription":"books.b1"}`, `{"event":"message","subscription":"books.b1","status":"error","error":"Service unavailable.","org":5,"lang":"en"}`, 500},
	}
	for _, tc := range msgCases {
		t.Run(tc.name, func(t *testing.T) {
			c := c.For(t)
			svc.Answer("/on_message", tc.status, tc.answer)
			c.Send(tc.send)
			if tc.want == "" {
				c.Send(`{"event":"ping","data":"sync"}`)
				c.Expect(`{"event":"pong","data":"sync"}`)
				return
			}
			c.Expect(tc.want)
		})
	}
	msgs := svc.Calls("/on_message")
	if want := `{"subscription":"books.b1","org":5,"lang":"en","role":"admin","user_id":"u1","session_id":"s1","data":{"x":1}}`; !control.JSONEqual([]byte(msgs[0].Raw), []byte(want)) {
		t.Errorf("on_message body = %s, want %s", msgs[0].Raw, want)
	}
	if msgs[2].Body["data"] != nil {
		t.Errorf("on_message without data got data %v, want null", msgs[2].Body["data"])
	}

	// unsubscribe: refused, then accepted with data.
	svc.Answer("/before_unsubscribe", 200, `{"status":"error"}`)
	c.Send(`{"event":"unsubscribe","subscription":"books.b1"}`)
	c.Expect(`{"event":"unsubscribe","subscription":"books.b1","status":"error","error":"Unhandled exception.","org":5,"lang":"en"}`)
	svc.Answer("/before_unsubscribe", 200, `{"status":"ok","data":{"bye":1}}`)
	c.Send(`{"event":"unsubscribe","subscription":"books.b1"}`)
	c.Expect(`{"event":"unsubscribe","subscription":"books.b1","status":"ok","org":5,"lang":"en","data":{"bye":1}}`)
	wstest.Eventually(t, 5*time.Second, "on_unsubscribe", func() bool { return len(svc.Calls("/on_unsubscribe")) == 1 })
	if got := svc.Calls("/on_unsubscribe")[0].Raw; !control.JSONEqual([]byte(got), []byte(fullBody)) {
		t.Errorf("on_unsubscribe body = %s, want %s", got, fullBody)
	}
	c.Send(`{"event":"message","subscription":"books.b1"}`)
	c.Expect(`{"event":"message","subscription":"books.b1","status":"error","error":"Subscription does not exist."}`)
}

func TestSubscribeCallbackErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, path, answer string
		status             int
		want               string
	}{
		{"authorizer error text", "/authorize", `{"status":"error","error":"Not yours.","data":{"a":1}}`, 200, `"error":"Not yours.","data":{"a":1}`},
		{"authorizer error bare", "/authorize", `{"status":"error"}`, 200, `"error":"Unauthorized."`},
		{"authorizer 4xx", "/authorize", `{"error":"Forbidden here."}`, 403, `"error":"Forbidden here."`},
		{"authorizer 4xx no body", "/authorize", ``, 404, `"error":"Unauthorized."`},
		{"authorizer html", "/authorize", `<html>`, 200, `"error":"Service unavailable."`},
		{"before_subscribe error text", "/before_subscribe", `{"status":"error","error":"Gone."}`, 200, `"error":"Gone."`},
		{"before_subscribe error bare", "/before_subscribe", `{"status":"error"}`, 200, `"error":"Unhandled exception."`},
		{"before_subscribe down", "/before_subscribe", `x`, 502, `"error":"Service unavailable."`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc := wstest.NewService(t)
			svc.Answer(tc.path, tc.status, tc.answer)
			cfg := testConfig(t)
			s := fullService(svc)
			s.RequireAuthentication = new(bool)
			cfg.Services["books"] = s
			h := newHarness(t, cfg)
			c := h.dial()
			c.Send(`{"event":"subscribe","subscription":"books.b1","org":1}`)
			c.Expect(`{"event":"subscribe","subscription":"books.b1","status":"error","org":1,` + tc.want + `}`)
			if n := len(svc.Calls("/on_subscribe")); n != 0 {
				t.Errorf("on_subscribe called %d times after a failed subscribe", n)
			}
			wstest.Eventually(t, 5*time.Second, "no channel left", func() bool { return h.numsub("books.b1") == 0 })
			h.publish("books.b1", `{"subscription":"books.b1","data":1}`)
			c.Quiet(100 * time.Millisecond)
		})
	}
}

func TestRetryAfter429Header(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	svc.SetHeader("X-Reset", "0.3")
	var first atomic.Bool
	first.Store(true)
	svc.On("/authorize", func(map[string]any) (int, any) {
		if first.CompareAndSwap(true, false) {
			return 429, `{}`
		}
		return 200, `{"status":"ok"}`
	})
	cfg := testConfig(t)
	cfg.HTTP.Wait = services.Duration(5 * time.Second) // a 429 must wait for the header, not this
	cfg.HTTP.RateLimitResetHeaders = []string{"X-Reset"}
	cfg.Services["books"] = &services.Service{RequireAuthentication: new(bool), Authorizer: svc.URL("/authorize")}
	h := newHarness(t, cfg)
	c := h.dial()
	start := time.Now()
	c.Send(`{"event":"subscribe","subscription":"books.b1"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b1","status":"ok"}`)
	if took := time.Since(start); took < 250*time.Millisecond || took > 4*time.Second {
		t.Fatalf("subscribe took %s; want the 0.3 s of the reset header", took)
	}
	if n := len(svc.Calls("/authorize")); n != 2 {
		t.Fatalf("authorizer tries = %d, want 2", n)
	}
}

func TestRetriesExhausted(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	svc.Answer("/authorize", 500, `boom`)
	cfg := testConfig(t)
	cfg.HTTP.Tries = 3
	cfg.Services["books"] = &services.Service{RequireAuthentication: new(bool), Authorizer: svc.URL("/authorize")}
	h := newHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b1"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b1","status":"error","error":"Service unavailable."}`)
	if n := len(svc.Calls("/authorize")); n != 3 {
		t.Fatalf("tries = %d, want 3", n)
	}
}

// TestHoldBack: a before_subscribe that itself publishes, and answers only
// once the router holds those messages back; the client sees the ok reply,
// then the messages, exactly once.
func TestHoldBack(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	cfg := testConfig(t)
	s := open()
	s.BeforeSubscribe = svc.URL("/before_subscribe")
	cfg.Services["books"] = s
	h := newHarness(t, cfg)
	svc.On("/before_subscribe", func(map[string]any) (int, any) {
		for i := range 3 {
			h.publish("books.b1", fmt.Sprintf(`{"subscription":"books.b1","data":%d}`, i))
		}
		for deadline := time.Now().Add(5 * time.Second); h.heldBack("books.b1") < 3; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Error("the messages published during before_subscribe were not held back")
				break
			}
		}
		return 200, `{"status":"ok","data":"state"}`
	})
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b1"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b1","status":"ok","data":"state"}`)
	for i := range 3 {
		c.Expect(fmt.Sprintf(`{"event":"message","subscription":"books.b1","data":%d}`, i))
	}
	h.publish("books.b1", `{"subscription":"books.b1","data":"after"}`)
	c.Expect(`{"event":"message","subscription":"books.b1","data":"after"}`)
	c.Quiet(100 * time.Millisecond)
}

// heldBack counts the messages held back for subscriptions to name that
// are not live yet.
func (h *harness) heldBack(name string) int {
	return heldIn(h.hubChannel(name, false))
}

// hubChannel is the first hub's channel of name, or with pattern that of
// the wildcard subscription name; nil when it has none.
func (h *harness) hubChannel(name string, pattern bool) *channel {
	hub := h.r.hubs[0]
	key := hub.prefix + name
	if pattern {
		key = escapeGlob(hub.prefix) + auth.RedisGlob(name)
	}
	hub.mu.RLock()
	defer hub.mu.RUnlock()
	return hub.table(pattern)[key]
}

// heldIn counts the messages ch holds back for subscriptions that are
// not live yet; 0 for no channel.
func heldIn(ch *channel) int {
	if ch == nil {
		return 0
	}
	n := 0
	ch.each(func(sub *subscription) {
		sub.mu.Lock()
		n += len(sub.held)
		sub.mu.Unlock()
	})
	return n
}

func TestFanOutAndChannelRefcount(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Services["books"] = open()
	h := newHarness(t, cfg)
	const n = 50
	clients := make([]*wstest.Client, n)
	for i := range clients {
		clients[i] = h.dial()
		clients[i].Send(`{"event":"subscribe","subscription":"books.b1"}`)
		clients[i].Expect(`{"event":"subscribe","subscription":"books.b1","status":"ok"}`)
	}
	if got := h.numsub("books.b1"); got != 1 {
		t.Fatalf("NUMSUB = %d, want 1 (one pub/sub connection for all)", got)
	}
	h.publish("books.b1", `{"subscription":"books.b1","data":"all"}`)
	for _, c := range clients {
		c.Expect(`{"event":"message","subscription":"books.b1","data":"all"}`)
	}
	for _, c := range clients[1:] {
		c.Send(`{"event":"unsubscribe","subscription":"books.b1"}`)
		c.Expect(`{"event":"unsubscribe","subscription":"books.b1","status":"ok"}`)
	}
	h.publish("books.b1", `{"subscription":"books.b1","data":"one"}`)
	clients[0].Expect(`{"event":"message","subscription":"books.b1","data":"one"}`)
	clients[0].CloseNow()
	wstest.Eventually(t, 5*time.Second, "NUMSUB 0", func() bool { return h.numsub("books.b1") == 0 })
}

func TestCloseEndsSubscriptionsWithCallbacks(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	cfg := testConfig(t)
	s := fullService(svc)
	s.RequireAuthentication = new(bool)
	cfg.Services["books"] = s
	h := newHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b1","org":1}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b1","status":"ok","org":1}`)
	c.Send(`{"event":"subscribe","subscription":"books.b2"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b2","status":"ok"}`)
	c.CloseNow()
	wstest.Eventually(t, 5*time.Second, "unsubscribe callbacks", func() bool {
		return len(svc.Calls("/before_unsubscribe")) == 2 && len(svc.Calls("/on_unsubscribe")) == 2
	})
	wstest.Eventually(t, 5*time.Second, "channels released", func() bool { return h.numsub("books.b1")+h.numsub("books.b2") == 0 })
}

func TestMalformedPublicationsAreDropped(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Services["books"] = open()
	h := newHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b1"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b1","status":"ok"}`)
	for _, bad := range []string{
		`not json`, `[1,2]`, `"str"`, `null`, `{}`, `{"data":1}`,
		`{"subscription":"books.b2","data":1}`, `{"subscription":5,"data":1}`,
		`{"subscription":"books.b1"}`, `{"subscription":"books.b1","data":1`,
		`{"subscription":"books.b1","DATA":1}`, `{"SUBSCRIPTION":"books.b1","data":1}`,
		strings.Repeat("{", 10000),
	} {
		h.publish("books.b1", bad)
	}
	h.publish("books.b1", `{"subscription":"books.b1","data":null}`)
	c.Expect(`{"event":"message","subscription":"books.b1","data":null}`)
	h.publish("books.b1", `{"subscription":"books.b1","data":1,"published_at":"2026-11-23T14:00:00.123456+00:00"}`)
	c.Expect(`{"event":"message","subscription":"books.b1","data":1,"published_at":"2026-11-23T14:00:00.123456+00:00"}`)
	for _, ts := range []string{"2026-11-23T14:00:00Z", "2026-11-23 14:00:00.5", "2026-11-23T14:00:00", "2026-11-23T14:00", "2026-11-23 14:00+01:00"} {
		h.publish("books.b1", `{"subscription":"books.b1","data":2,"published_at":"`+ts+`"}`)
		c.Expect(`{"event":"message","subscription":"books.b1","data":2,"published_at":"` + ts + `"}`)
	}
	for _, ts := range []string{`"yesterday"`, `12`, `"2026-13-01T00:00:00"`, `"2026-11-23"`} {
		h.publish("books.b1", `{"subscription":"books.b1","data":3,"published_at":`+ts+`}`)
		c.Expect(`{"event":"message","subscription":"books.b1","data":3}`)
	}
	if got := counterValue(t, h.r.drops.malformed); got != 13 {
		t.Errorf("malformed drops = %v, want 13", got)
	}
}

// TestClientLeavesDuringBeforeSubscribe: no subscription is left behind.
func TestClientLeavesDuringBeforeSubscribe(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	release := make(chan struct{})
	svc.On("/before_subscribe", func(map[string]any) (int, any) {
		<-release
		return 200, `{"status":"ok"}`
	})
	cfg := testConfig(t)
	s := fullService(svc)
	s.RequireAuthentication = new(bool)
	s.Authorizer = ""
	cfg.Services["books"] = s
	h := newHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b1"}`)
	wstest.Eventually(t, 5*time.Second, "before_subscribe called", func() bool { return len(svc.Calls("/before_subscribe")) == 1 })
	c.CloseNow()
	wstest.Eventually(t, 5*time.Second, "session gone", func() bool {
		h.r.mu.Lock()
		defer h.r.mu.Unlock()
		return len(h.r.sessions) == 0
	})
	close(release)
	wstest.Eventually(t, 5*time.Second, "channel released", func() bool { return h.numsub("books.b1") == 0 })
	time.Sleep(100 * time.Millisecond)
	if n := len(svc.Calls("/on_subscribe")) + len(svc.Calls("/on_unsubscribe")); n != 0 {
		t.Fatalf("callbacks after an unfinished subscribe: %v", svc.Paths())
	}
	_ = context.Background
}

// TestAlreadySubscribedEchoesTheExistingExtraFields: the refusal of a second
// subscribe to a name carries the extra fields of the subscription that
// exists, not those of the refused request.
func TestAlreadySubscribedEchoesTheExistingExtraFields(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	s := open()
	s.ExtraFields = []string{"org", "lang"}
	cfg.Services["books"] = s
	h := newHarness(t, cfg)
	cases := []struct{ name, first, again, want string }{
		{"other values", `"org":1,"lang":"en"`, `"org":2,"lang":"fr"`, `"org":1,"lang":"en"`},
		{"none in the second", `"org":1`, ``, `"org":1`},
		{"none in the first", ``, `"org":2`, ``},
	}
	c := h.dial()
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := c.For(t)
			name := fmt.Sprintf("books.b%d", i)
			with := func(fields string) string {
				if fields == "" {
					return ""
				}
				return "," + fields
			}
			c.Send(`{"event":"subscribe","subscription":"` + name + `"` + with(tc.first) + `}`)
			c.Expect(`{"event":"subscribe","subscription":"` + name + `","status":"ok"` + with(tc.first) + `}`)
			c.Send(`{"event":"subscribe","subscription":"` + name + `"` + with(tc.again) + `}`)
			c.Expect(`{"event":"subscribe","subscription":"` + name + `","status":"error","error":"Already subscribed."` + with(tc.want) + `}`)
		})
	}
}
