package router

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/control"
	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/services"
)

// cloneConfig copies cfg with a fresh services map (service values are
// shared, as a reload of an unchanged service would give equal ones).
func cloneConfig(cfg *services.Config) *services.Config {
	next := *cfg
	next.Services = map[string]*services.Service{}
	for k, v := range cfg.Services {
		next.Services[k] = v
	}
	return &next
}

// TestReloadRemovesService: each subscription of a removed service ends
// with "Service removed."; the forced unsubscribe waits in the paced queue
// for before_unsubscribe's answer and carries its data when given, then
// on_unsubscribe is called.
func TestReloadRemovesService(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		answer string
		data   string // the event's data member, "" for none
	}{
		{"data given", 200, `{"status":"ok","data":{"bye":true}}`, `,"data":{"bye":true}`},
		{"error with data", 200, `{"status":"error","error":"no","data":"why"}`, `,"data":"why"`},
		{"no data", 200, `{"status":"ok"}`, ``},
		{"service failing", 500, `{}`, ``},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc := wstest.NewService(t)
			release := make(chan struct{})
			free := sync.OnceFunc(func() { close(release) })
			t.Cleanup(free) // runs before the service's own cleanup closes it
			svc.On("/before_unsubscribe", func(map[string]any) (int, any) {
				<-release
				return tc.status, tc.answer
			})
			cfg := testConfig(t)
			s := open()
			s.ExtraFields = []string{"org"}
			s.BeforeUnsubscribe = svc.URL("/before_unsubscribe")
			s.OnUnsubscribe = svc.URL("/on_unsubscribe")
			cfg.Services["books"] = s
			cfg.Services["other"] = open()
			h := newHarness(t, cfg)
			c := h.dial()
			c.Send(`{"event":"subscribe","subscription":"books.b","org":1}`)
			c.Expect(`{"event":"subscribe","subscription":"books.b","status":"ok","org":1}`)
			c.Send(`{"event":"subscribe","subscription":"other.o"}`)
			c.Expect(`{"event":"subscribe","subscription":"other.o","status":"ok"}`)

			next := cloneConfig(cfg)
			delete(next.Services, "books")
			if err := h.r.Reload(next); err != nil {
				t.Fatal(err)
			}
			wstest.Eventually(t, 5*time.Second, "before_unsubscribe through the queue", func() bool {
				return len(svc.Calls("/before_unsubscribe")) > 0
			})
			// The event waits for the answer; the client's own events
			// are answered meanwhile.
			c.Send(`{"event":"ping","data":"p"}`)
			c.Expect(`{"event":"pong","data":"p"}`)
			if len(svc.Calls("/on_unsubscribe")) != 0 {
				t.Fatal("on_unsubscribe called before before_unsubscribe answered")
			}
			free()
			c.Expect(`{"event":"unsubscribe","subscription":"books.b","error":"Service removed.","org":1` + tc.data + `}`)
			wstest.Eventually(t, 5*time.Second, "on_unsubscribe after it", func() bool {
				return len(svc.Calls("/on_unsubscribe")) == 1
			})
			wstest.Eventually(t, 5*time.Second, "channel released", func() bool { return h.numsub("books.b") == 0 })
			c.Send(`{"event":"subscribe","subscription":"books.b"}`)
			c.Expect(`{"event":"subscribe","subscription":"books.b","status":"error","error":"Invalid service."}`)
			h.publish("other.o", `{"subscription":"other.o","data":"kept"}`)
			c.Expect(`{"event":"message","subscription":"other.o","data":"kept"}`)
		})
	}
}

func TestReloadAddsServiceAndChangesURLs(t *testing.T) {
	t.Parallel()
	oldSvc, newSvc := wstest.NewService(t), wstest.NewService(t)
	cfg := testConfig(t)
	s := open()
	s.OnMessage = oldSvc.URL("/on_message")
	cfg.Services["books"] = s
	h := newHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b","status":"ok"}`)

	next := cloneConfig(cfg)
	changed := *s
	changed.OnMessage = newSvc.URL("/on_message")
	next.Services["books"] = &changed
	next.Services["films"] = open()
	if err := h.r.Reload(next); err != nil {
		t.Fatal(err)
	}
	h.publish("books.b", `{"subscription":"books.b","data":"across"}`)
	c.Expect(`{"event":"message","subscription":"books.b","data":"across"}`)
	c.Send(`{"event":"message","subscription":"books.b","data":1}`)
	c.Send(`{"event":"subscribe","subscription":"films.f"}`)
	c.Expect(`{"event":"subscribe","subscription":"films.f","status":"ok"}`)
	if n, o := len(newSvc.Calls("/on_message")), len(oldSvc.Calls("/on_message")); n != 1 || o != 0 {
		t.Fatalf("on_message calls: new URL %d, old URL %d; want 1 and 0", n, o)
	}
}

func TestDeliveryTimestamps(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.WebSocket.DeliveryTimestamps = true
	cfg.Services["books"] = open()
	h := newHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b","status":"ok"}`)
	h.publish("books.b", `{"subscription":"books.b","data":1}`)
	var got struct {
		Data       int    `json:"data"`
		ReceivedAt string `json:"received_at"`
		SentAt     string `json:"sent_at"`
	}
	if err := json.Unmarshal(c.Next(), &got); err != nil {
		t.Fatal(err)
	}
	const layout = "2006-01-02T15:04:05.000000Z07:00"
	rcv, err1 := time.Parse(layout, got.ReceivedAt)
	snt, err2 := time.Parse(layout, got.SentAt)
	if err1 != nil || err2 != nil || got.ReceivedAt[len(got.ReceivedAt)-1] != 'Z' || snt.Before(rcv) {
		t.Fatalf("timestamps %q %q: %v %v", got.ReceivedAt, got.SentAt, err1, err2)
	}
}

// TestReloadStressLosesNothing: 100 reloads while clients receive a steady
// stream; every client gets every message once, in order.
func TestReloadStressLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("long: reload stress")
	}
	cfg := testConfig(t)
	cfg.Services["books"] = open()
	h := newHarness(t, cfg)
	const clients, messages = 200, 400
	cs := make([]*wstest.Client, clients)
	for i := range cs {
		cs[i] = h.dial()
		cs[i].Send(`{"event":"subscribe","subscription":"books.s"}`)
		cs[i].Expect(`{"event":"subscribe","subscription":"books.s","status":"ok"}`)
	}
	withExtra := cloneConfig(cfg)
	withExtra.Services["films"] = open()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 100 {
			next := cfg
			if i%2 == 0 {
				next = withExtra
			}
			if err := h.r.Reload(next); err != nil {
				t.Error(err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	for i := range messages {
		h.publish("books.s", fmt.Sprintf(`{"subscription":"books.s","data":%d}`, i))
		if i%50 == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	wg.Wait()
	for ci, c := range cs {
		for i := range messages {
			want := fmt.Sprintf(`{"event":"message","subscription":"books.s","data":%d}`, i)
			if got := c.Next(); !control.JSONEqual(got, []byte(want)) {
				t.Fatalf("client %d: got %s, want %s", ci, got, want)
			}
		}
	}
}

// TestReloadTurnsOnHeartbeatForExistingSubscriptions: a reload that gives
// a service a heartbeat starts it for the subscriptions it already has.
func TestReloadTurnsOnHeartbeatForExistingSubscriptions(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	cfg := testConfig(t)
	cfg.Services["books"] = open()
	h, clk := newManualHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b","status":"ok"}`)

	next := cloneConfig(cfg)
	beating := *cfg.Services["books"]
	beating.HeartbeatPeriod = services.Duration(time.Minute)
	beating.OnHeartbeat = svc.URL("/heartbeat")
	next.Services["books"] = &beating
	if err := h.r.Reload(next); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		fireNext(t, clk)
	}
	if n := len(svc.Calls("/heartbeat")); n != 3 {
		t.Fatalf("%d heartbeats of the existing subscription, want 3", n)
	}
	if err := h.r.Reload(next); err != nil { // a second reload arms nothing twice
		t.Fatal(err)
	}
	if got := clk.Pending(); got != 1 {
		t.Fatalf("timers armed = %d, want 1", got)
	}
}
