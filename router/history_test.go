package router

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/embedredis"
	"github.com/wsrouter/wsrouter/history"
	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/metrics"
	"github.com/wsrouter/wsrouter/services"
)

// historyConfig is a test configuration with the service books keeping a
// history of size messages and the service news keeping none.
func historyConfig(t testing.TB, size int) *services.Config {
	cfg := testConfig(t)
	no := false
	cfg.Services["books"] = &services.Service{RequireAuthentication: &no,
		History: &services.History{Size: size, TTL: services.Duration(time.Minute)}}
	cfg.Services["news"] = &services.Service{RequireAuthentication: &no}
	return cfg
}

// publishKept publishes {"subscription":name,"data":{"n":n}} through the
// history and returns its offset.
func (h *harness) publishKept(name string, n int, extra string) history.Offset {
	h.t.Helper()
	svc := h.cfg.Services[serviceOf(name)]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msg := fmt.Sprintf(`{"subscription":%q,"data":{"n":%d}%s}`, name, n, extra)
	off, err := history.New(h.rdb, h.prefix, history.Options{}).Publish(ctx, name, []byte(msg),
		history.Settings{Size: svc.History.Size, TTL: svc.History.TTL.Std()})
	if err != nil {
		h.t.Fatalf("publish %s: %v", name, err)
	}
	return off
}

// subscribeReply subscribes c with the given extra members and returns
// the decoded ok reply.
func subscribeReply(t *testing.T, c *wstest.Client, name, members string) map[string]any {
	t.Helper()
	c.Send(`{"event":"subscribe","subscription":"` + name + `"` + members + `}`)
	var rep map[string]any
	if b := c.Next(); json.Unmarshal(b, &rep) != nil || rep["status"] != "ok" || rep["event"] != "subscribe" {
		t.Fatalf("subscribe %s%s: %s", name, members, b)
	}
	return rep
}

// delivery reads the next frame of c, which must be a delivery, and
// returns its data's n and its offset ("" when it has none).
func delivery(t *testing.T, c *wstest.Client) (int, string) {
	t.Helper()
	b := c.Next()
	var m struct {
		Event  string
		Data   struct{ N int }
		Offset *string
	}
	if json.Unmarshal(b, &m) != nil || m.Event != "message" {
		t.Fatalf("want a delivery, got %s", b)
	}
	if m.Offset == nil {
		return m.Data.N, ""
	}
	return m.Data.N, *m.Offset
}

func TestHistoryOffsets(t *testing.T) {
	t.Parallel()
	h := newHarness(t, historyConfig(t, 10))
	c := h.dial()

	rep := subscribeReply(t, c, "books.b1", "")
	empty, ok := history.ParseOffset(fmt.Sprint(rep["offset"]))
	if !ok || empty.Seq != 0 || rep["recovered"] != nil {
		t.Fatalf("reply on an empty history: %v; want an offset of sequence 0 and no recovered", rep)
	}
	off := h.publishKept("books.b1", 1, "")
	if off.Epoch != empty.Epoch || off.Seq != 1 {
		t.Fatalf("first offset %v after the reply's %v", off, empty)
	}
	c.Expect(`{"event":"message","subscription":"books.b1","data":{"n":1},"offset":"` + off.String() + `"}`)
	// A plain PUBLISH is delivered live, without an offset.
	h.publish("books.b1", `{"subscription":"books.b1","data":{"n":2}}`)
	c.Expect(`{"event":"message","subscription":"books.b1","data":{"n":2}}`)
	// A publisher's own "offset" that is not one is left out.
	h.publish("books.b1", `{"subscription":"books.b1","data":{"n":3},"offset":"soon"}`)
	c.Expect(`{"event":"message","subscription":"books.b1","data":{"n":3}}`)

	// Without history: since is ignored, no offset anywhere.
	c.Send(`{"event":"subscribe","subscription":"news.n1","since":"1:1"}`)
	c.Expect(`{"event":"subscribe","subscription":"news.n1","status":"ok"}`)
	h.publish("news.n1", `{"subscription":"news.n1","data":{"n":4},"offset":"1:4"}`)
	c.Expect(`{"event":"message","subscription":"news.n1","data":{"n":4}}`)

	// A second subscriber gets the newest offset in its reply.
	c2 := h.dial()
	if rep := subscribeReply(t, c2, "books.b1", ""); rep["offset"] != off.String() {
		t.Fatalf("reply offset %v, want %v", rep["offset"], off)
	}
}

func TestRecoveryAfterReconnect(t *testing.T) {
	t.Parallel()
	cfg := historyConfig(t, 100)
	cfg.Services["books"].ExtraFields = []string{"room"}
	cfg.Services["books"].FilterFields = []string{"user_id"}
	h := newHarness(t, cfg)

	c := h.dial()
	rep := subscribeReply(t, c, "books.b1", `,"room":"r1"`)
	last := rep["offset"].(string)
	for i := 1; i <= 2; i++ {
		h.publishKept("books.b1", i, "")
		var n int
		n, last = delivery(t, c)
		if n != i {
			t.Fatalf("delivery %d, want %d", n, i)
		}
	}
	c.CloseNow()

	// Missed while away: 3..7, and one for another user that the filter drops.
	for i := 3; i <= 7; i++ {
		h.publishKept("books.b1", i, "")
		if i == 5 {
			h.publishKept("books.b1", 100, `,"user_id":"someone"`)
		}
	}
	c = h.dial()
	rep = subscribeReply(t, c, "books.b1", `,"room":"r1","since":"`+last+`"`)
	if rep["recovered"] != true || rep["room"] != "r1" {
		t.Fatalf("reply %v, want recovered:true with the extra field", rep)
	}
	newest := h.publishKept("books.b1", 8, "") // live, after the subscribe
	for want := 3; want <= 8; want++ {
		n, off := delivery(t, c)
		if n != want || off == "" {
			t.Fatalf("delivery %d (offset %q), want %d", n, off, want)
		}
		if want == 8 && off != newest.String() {
			t.Fatalf("live delivery offset %s, want %s", off, newest)
		}
	}
	c.Quiet(100 * time.Millisecond)
	if got := counterValue(t, h.r.metrics.HistoryRecoveries.WithLabelValues(metrics.Recovered)); got != 1 {
		t.Fatalf("recovered counter %v, want 1", got)
	}
}

func TestRecoveryRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, historyConfig(t, 3))
	var offs []history.Offset
	for i := 1; i <= 6; i++ { // keeps 4..6
		offs = append(offs, h.publishKept("books.b1", i, ""))
	}
	epoch := offs[0].Epoch
	cases := []struct{ name, since string }{
		{"another epoch", `"1:5"`},
		{"older than the oldest kept", `"` + offs[1].String() + `"`},
		{"nothing yet, trimmed since", `"` + epoch + `:0"`},
		{"the future", `"` + epoch + `:1000000"`},
		{"huge", `"` + epoch + `:99999999999999999999999999"`},
		{"garbage", `"abc"`},
		{"long", `"` + strings.Repeat("9", 5000) + `"`},
		{"number", `5`},
		{"null", `null`},
		{"object", `{"offset":"` + offs[3].String() + `"}`},
		{"array", `["` + offs[3].String() + `"]`},
	}
	for i, tc := range cases {
		c := h.dial()
		rep := subscribeReply(t, c, "books.b1", `,"since":`+tc.since)
		if rep["recovered"] != false || rep["offset"] != offs[5].String() {
			t.Fatalf("%s: reply %v, want recovered:false and offset %s", tc.name, rep, offs[5])
		}
		// Nothing from the history; live messages flow.
		off := h.publishKept("books.b1", 100+i, "")
		if n, got := delivery(t, c); n != 100+i || got != off.String() {
			t.Fatalf("%s: first delivery %d %s, want the live %d %s", tc.name, n, got, 100+i, off)
		}
		offs[5] = off
	}
	if got := counterValue(t, h.r.metrics.HistoryRecoveries.WithLabelValues(metrics.NotRecovered)); got != float64(len(cases)) {
		t.Fatalf("not_recovered counter %v, want %d", got, len(cases))
	}
}

// TestRecoveryWhilePublishing subscribes with since again and again while
// a publisher keeps publishing, so that messages land before, during and
// after the history read: each client must get every message after since
// exactly once, in order.
func TestRecoveryWhilePublishing(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	cfg := historyConfig(t, 10000)
	cfg.Services["books"].BeforeSubscribe = svc.URL("/before_subscribe")
	// The publisher is not paced, so that messages land during the history
	// read; a reader slowed down by a busy machine must not be closed as a
	// slow consumer meanwhile.
	cfg.WebSocket.SendQueue = 1 << 20
	cfg.WebSocket.SendQueueBytes = 1 << 28
	h := newHarness(t, cfg)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	published := 0
	wg.Go(func() {
		store := history.New(h.rdb, h.prefix, history.Options{})
		set := history.Settings{Size: 10000, TTL: time.Minute}
		for i := 1; ctx.Err() == nil; i++ {
			msg := fmt.Sprintf(`{"subscription":"books.b1","data":{"n":%d}}`, i)
			if _, err := store.Publish(ctx, "books.b1", []byte(msg), set); err != nil {
				if ctx.Err() == nil {
					t.Errorf("publish: %v", err)
				}
				return
			}
			mu.Lock()
			published = i
			mu.Unlock()
		}
	})
	defer func() { cancel(); wg.Wait() }()
	wstest.Eventually(t, 5*time.Second, "publishing", func() bool { mu.Lock(); defer mu.Unlock(); return published >= 5 })

	for round := range 15 {
		mu.Lock()
		since := published - 3
		mu.Unlock()
		rec, err := history.New(h.rdb, h.prefix, history.Options{}).Newest(context.Background(), "books.b1", history.Settings{Size: 10000, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		sinceOff := history.Offset{Epoch: rec.Epoch, Seq: uint64(since)}
		c := h.dial()
		rep := subscribeReply(t, c, "books.b1", `,"since":"`+sinceOff.String()+`"`)
		if rep["recovered"] != true {
			t.Fatalf("round %d: reply %v", round, rep)
		}
		mu.Lock()
		target := published + 20
		mu.Unlock()
		for want := since + 1; want <= target; want++ {
			n, off := delivery(t, c)
			if n != want {
				t.Fatalf("round %d: delivery %d (offset %s), want %d (since %s, reply %v): a message missing or twice", round, n, off, want, sinceOff, rep)
			}
		}
		c.CloseNow()
	}
}

func TestRecoveryOfMessagesPublishedDuringSubscribe(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	cfg := historyConfig(t, 100)
	cfg.Services["books"].BeforeSubscribe = svc.URL("/before_subscribe")
	h := newHarness(t, cfg)
	first := h.publishKept("books.b1", 1, "")
	// Published while before_subscribe runs: held back live and in the
	// history read that follows.
	svc.On("/before_subscribe", func(map[string]any) (int, any) {
		h.publishKept("books.b1", 2, "")
		h.publishKept("books.b1", 3, "")
		return 200, `{"status":"ok"}`
	})
	c := h.dial()
	rep := subscribeReply(t, c, "books.b1", `,"since":"`+first.String()+`"`)
	if rep["recovered"] != true || !strings.HasSuffix(rep["offset"].(string), ":3") {
		t.Fatalf("reply %v", rep)
	}
	for want := 2; want <= 3; want++ {
		if n, _ := delivery(t, c); n != want {
			t.Fatalf("delivery %d, want %d", n, want)
		}
	}
	c.Quiet(200 * time.Millisecond)

	// Without since the held-back messages are delivered as before.
	c2 := h.dial()
	rep = subscribeReply(t, c2, "books.b1", "")
	if rep["recovered"] != nil || !strings.HasSuffix(rep["offset"].(string), ":5") {
		t.Fatalf("reply without since %v", rep)
	}
	for want := 2; want <= 3; want++ {
		if n, _ := delivery(t, c2); n != want {
			t.Fatalf("delivery without since %d, want %d", n, want)
		}
	}
}

func TestHistoryReload(t *testing.T) {
	t.Parallel()
	cfg := historyConfig(t, 10)
	cfg.Services["books"].History = nil
	h := newHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b1","since":"1:1"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b1","status":"ok"}`)

	on := *cfg
	on.Services = map[string]*services.Service{"books": {RequireAuthentication: cfg.Services["books"].RequireAuthentication,
		History: &services.History{Size: 10, TTL: services.Duration(time.Minute)}}}
	if err := h.r.Reload(&on); err != nil {
		t.Fatal(err)
	}
	h.cfg = &on
	off := h.publishKept("books.b1", 1, "")
	// The existing subscription gets offsets from now on.
	if n, got := delivery(t, c); n != 1 || got != off.String() {
		t.Fatalf("after adding history: delivery %d %q, want offset %s", n, got, off)
	}
	if rep := subscribeReply(t, h.dial(), "books.b1", ""); rep["offset"] != off.String() {
		t.Fatalf("after adding history: reply %v", rep)
	}

	if err := h.r.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	h.publish("books.b1", `{"subscription":"books.b1","data":{"n":2},"offset":"`+off.String()+`"}`)
	c.Expect(`{"event":"message","subscription":"books.b1","data":{"n":2}}`)
	c3 := h.dial()
	c3.Send(`{"event":"subscribe","subscription":"books.b1","since":"` + off.String() + `"}`)
	c3.Expect(`{"event":"subscribe","subscription":"books.b1","status":"ok"}`)
}

// TestManyRecoveriesLeaveNothingBehind subscribes with since 10,000 times
// (recoverable, unrecoverable and garbage offsets) and unsubscribes: no
// goroutine or timer of the history reads may outlive them.
func TestManyRecoveriesLeaveNothingBehind(t *testing.T) {
	if testing.Short() {
		t.Skip("long: many subscriptions")
	}
	h, clk := newManualHarness(t, historyConfig(t, 5))
	for i := range 10 {
		h.publishKept("books.t", i, "")
	}
	newest := h.publishKept("books.t", 10, "")
	time.Sleep(100 * time.Millisecond)
	baseline := runtime.NumGoroutine()

	const conns, rounds = 20, 500
	sinces := []string{`"` + newest.String() + `"`, `"1:1"`, `"x"`, `7`, `"` + newest.Epoch + `:3"`}
	clients := make([]*wstest.Client, conns)
	for i := range clients {
		clients[i] = h.dial()
	}
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			for r := range rounds {
				c.Send(`{"event":"subscribe","subscription":"books.t","since":` + sinces[(i+r)%len(sinces)] + `}`)
				var rep map[string]any
				if b := c.Next(); json.Unmarshal(b, &rep) != nil || rep["status"] != "ok" || rep["offset"] != newest.String() {
					t.Errorf("round %d: %s", r, b)
					return
				}
				c.Send(`{"event":"unsubscribe","subscription":"books.t"}`)
				c.Expect(`{"event":"unsubscribe","subscription":"books.t","status":"ok"}`)
			}
		})
	}
	wg.Wait()
	if got := clk.Pending(); got != 0 {
		t.Fatalf("timers armed after every unsubscribe: %d", got)
	}
	for _, c := range clients {
		c.CloseNow()
	}
	wstest.Eventually(t, 10*time.Second, "sessions closed", func() bool {
		h.r.mu.Lock()
		defer h.r.mu.Unlock()
		return len(h.r.sessions) == 0
	})
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseline+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d, baseline %d\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
	want := float64(conns * rounds)
	got := counterValue(t, h.r.metrics.HistoryRecoveries.WithLabelValues(metrics.Recovered)) +
		counterValue(t, h.r.metrics.HistoryRecoveries.WithLabelValues(metrics.NotRecovered))
	if got != want {
		t.Fatalf("recoveries counted %v, want %v", got, want)
	}
}

func TestRecoveryOnEmbeddedRedis(t *testing.T) {
	t.Parallel()
	e, err := embedredis.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	cfg := historyConfig(t, 10)
	cfg.Redis.URL = e.URL()
	h := newHarness(t, cfg)
	h.rdb = redis.NewClient(&redis.Options{Addr: e.Addr()})
	t.Cleanup(func() { h.rdb.Close() })

	c := h.dial()
	last := subscribeReply(t, c, "books.b1", "")["offset"].(string)
	c.CloseNow()
	h.publishKept("books.b1", 1, "")
	h.publishKept("books.b1", 2, "")
	c = h.dial()
	if rep := subscribeReply(t, c, "books.b1", `,"since":"`+last+`"`); rep["recovered"] != true {
		t.Fatalf("reply %v", rep)
	}
	for want := 1; want <= 2; want++ {
		if n, off := delivery(t, c); n != want || off == "" {
			t.Fatalf("delivery %d %q, want %d with an offset", n, off, want)
		}
	}
}

// TestRecoveryLargerThanTheSendQueue: a client that missed more messages
// than its send queue holds is told recovered:false and stays connected,
// rather than being closed as a slow consumer by its own recovery.
func TestRecoveryLargerThanTheSendQueue(t *testing.T) {
	t.Parallel()
	cfg := historyConfig(t, 100)
	cfg.WebSocket.SendQueue = 5
	h := newHarness(t, cfg)
	first := h.publishKept("books.b1", 1, "")
	for i := 2; i <= 6; i++ { // 5 missed: one more than the queue holds beside the reply
		h.publishKept("books.b1", i, "")
	}
	c := h.dial()
	if rep := subscribeReply(t, c, "books.b1", `,"since":"`+first.String()+`"`); rep["recovered"] != false {
		t.Fatalf("reply %v, want recovered:false", rep)
	}
	off := h.publishKept("books.b1", 8, "")
	if n, got := delivery(t, c); n != 8 || got != off.String() {
		t.Fatalf("delivery %d %s, want the live 8", n, got)
	}
	// Four missed messages fit: recovered.
	c2 := h.dial()
	since := history.Offset{Epoch: off.Epoch, Seq: off.Seq - 4}
	if rep := subscribeReply(t, c2, "books.b1", `,"since":"`+since.String()+`"`); rep["recovered"] != true {
		t.Fatalf("reply %v, want recovered:true", rep)
	}
	for _, want := range []int{4, 5, 6, 8} {
		if n, _ := delivery(t, c2); n != want {
			t.Fatalf("delivery %d, want %d", n, want)
		}
	}
}
