package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsrouter/wsrouter/metrics"
	"github.com/wsrouter/wsrouter/services"
)

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type staticNodes struct {
	list []Node
	err  error
}

func (n staticNodes) Nodes(context.Context) ([]Node, error) { return n.list, n.err }

func getJSON(t *testing.T, h http.Handler, path string) Snapshot {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s = %d %s", path, rec.Code, rec.Header().Get("Content-Type"))
	}
	var snap Snapshot
	if err := json.Unmarshal(rec.Body.Bytes(), &snap); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, rec.Body)
	}
	return snap
}

// TestSnapshotFollowsTheMetrics samples a real metrics set on a fake clock
// and checks /status.json's charts, rates, percentiles and lists.
func TestSnapshotFollowsTheMetrics(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	reloads := new(Reloads)
	reloads.Record(Reload{At: clock.Now(), Trigger: "SIGHUP", Result: "ok", Detail: "services added: chat"})
	reloads.Record(Reload{At: clock.Now(), Trigger: "file changed", Result: "error", Detail: "config.yaml:3: bad"})
	notReady := errors.New("redis: connection refused")
	var ready error
	var readyMu sync.Mutex
	cfg := services.Default()
	cfg.Services = map[string]*services.Service{
		"books": {Authorizer: "https://user:secret@app.internal/authz?token=x", OnMessage: "http://app.internal/msg"},
		"chat":  nil,
	}
	st := New(Options{
		Gatherer: m.Own(),
		Ready:    func() error { readyMu.Lock(); defer readyMu.Unlock(); return ready },
		Config:   func() *services.Config { return cfg },
		Reloads:  reloads,
		Nodes:    staticNodes{list: []Node{{ID: "n1", Connections: 3}}},
		NodeID:   "n1", Version: "v-test",
		Now: clock.Now,
	})
	h := st.Handler()

	// Five samples 5 s apart: 10 deliveries/s, then 40/s; connections and
	// subscriptions grow; two slow consumers in the last interval.
	for i := 1; i <= 4; i++ {
		clock.advance(5 * time.Second)
		m.Connections.Add(2)
		m.Subscriptions.WithLabelValues("books").Add(3)
		if i < 4 {
			m.Deliveries.Add(50)
		} else {
			m.Deliveries.Add(200)
			m.Dropped.WithLabelValues(metrics.DropSlowConsumer).Add(2)
		}
		m.RedisUp.Set(1)
		m.CallbackDuration.WithLabelValues("authorizer", "ok").Observe(0.004)
		st.Sample()
	}
	m.CallbackDuration.WithLabelValues("authorizer", "error").Observe(0.004) // after the last sample: not seen yet

	snap := getJSON(t, h, "/status.json")
	if n := len(snap.Series.T); n != 5 {
		t.Fatalf("%d samples, want 5 (the first at start)", n)
	}
	c := snap.Current
	if c.Connections != 8 || c.Subscriptions != 12 || c.ByService["books"] != 12 || c.Deliveries != 350 || c.Dropped["slow_consumer"] != 2 || c.DroppedAllTotal != 2 {
		t.Errorf("current = %+v", c)
	}
	if c.DeliveriesPerS != 40 || c.DroppedPerS != 0.4 {
		t.Errorf("rates = %v deliveries/s, %v drops/s; want 40 and 0.4", c.DeliveriesPerS, c.DroppedPerS)
	}
	if !c.SampledAt.Equal(clock.Now()) {
		t.Errorf("sampled_at = %v, want %v", c.SampledAt, clock.Now())
	}
	wantRates := []float64{-1, 10, 10, 10, 40} // -1: null
	for i, r := range snap.Series.DeliveriesPerS {
		if (wantRates[i] < 0) != (r != r) || (wantRates[i] >= 0 && float64(r) != wantRates[i]) {
			t.Errorf("deliveries_per_s[%d] = %v, want %v", i, r, wantRates[i])
		}
	}
	if got := snap.Series.DroppedPerS["slow_consumer"]; len(got) != 5 || got[4] != 0.4 || got[3] != 0 {
		t.Errorf("dropped_per_s.slow_consumer = %v", got)
	}
	if _, ok := snap.Series.DroppedPerS["filter"]; ok {
		t.Errorf("a reason that never dropped has a chart line: %v", snap.Series.DroppedPerS)
	}
	if len(snap.Callbacks) != 1 || snap.Callbacks[0].Callback != "authorizer" || snap.Callbacks[0].Calls != 4 || snap.Callbacks[0].P99Ms > 5 || snap.Callbacks[0].P99Ms <= 0 {
		t.Errorf("callbacks = %+v, want 4 authorizer calls under 5 ms", snap.Callbacks)
	}
	if len(snap.Redis) != 1 || snap.Redis[0] != (RedisState{Shard: "redis", Up: true}) {
		t.Errorf("redis = %+v", snap.Redis)
	}
	if !snap.Ready.OK || snap.Node.ID != "n1" || snap.Node.Version != "v-test" || snap.Node.UptimeS != 20 {
		t.Errorf("ready/node = %+v %+v", snap.Ready, snap.Node)
	}
	if !snap.Nodes.Enabled || len(snap.Nodes.List) != 1 || snap.Nodes.List[0].Connections != 3 {
		t.Errorf("nodes = %+v", snap.Nodes)
	}
	if len(snap.Services) != 2 || snap.Services[0].Name != "books" || snap.Services[1].Name != "chat" || !snap.Services[1].RequireAuthentication {
		t.Fatalf("services = %+v", snap.Services)
	}
	if got := snap.Services[0].Callbacks["authorizer"]; got != "https://app.internal/authz" {
		t.Errorf("authorizer URL shown as %q, want it without credentials or query", got)
	}
	if len(snap.Reloads) != 2 || snap.Reloads[0].Result != "error" || snap.Reloads[1].Detail != "services added: chat" {
		t.Errorf("reloads = %+v, want newest first", snap.Reloads)
	}

	readyMu.Lock()
	ready = notReady
	readyMu.Unlock()
	m.RedisUp.Set(0)
	clock.advance(5 * time.Second)
	st.Sample()
	snap = getJSON(t, h, "/status.json")
	if snap.Ready.OK || snap.Ready.Error != notReady.Error() || snap.Redis[0].Up {
		t.Errorf("after Redis loss: ready %+v, redis %+v", snap.Ready, snap.Redis)
	}
}

// TestWindowAndLatencyBaseline: the charts keep the window only, and the
// callback percentiles cover about the last five minutes.
func TestWindowAndLatencyBaseline(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	st := New(Options{Gatherer: m.Own(), Now: clock.Now, Interval: 5 * time.Second, Window: time.Minute})
	slow := m.CallbackDuration.WithLabelValues("before_subscribe", "ok")
	for range 10 {
		slow.Observe(8) // ten slow calls in the first minute
	}
	for range 20 * 12 { // twenty minutes, then fast calls only
		clock.advance(5 * time.Second)
		st.Sample()
	}
	for range 12 * 5 {
		slow.Observe(0.002)
		clock.advance(5 * time.Second)
		st.Sample()
	}
	snap := st.Snapshot(context.Background())
	if n := len(snap.Series.T); n != 13 {
		t.Errorf("%d samples in a one-minute window at 5 s, want 13", n)
	}
	if len(snap.Callbacks) != 1 || snap.Callbacks[0].Calls != 60 || snap.Callbacks[0].P99Ms > 5 {
		t.Errorf("callbacks = %+v; want the last five minutes' 60 fast calls only", snap.Callbacks)
	}
	if snap.CallbacksWindowS < 300 || snap.CallbacksWindowS > 360 {
		t.Errorf("callbacks_window_s = %v, want five to six minutes", snap.CallbacksWindowS)
	}
	if snap.Nodes.Enabled || snap.Nodes.List == nil || snap.Services == nil || snap.Reloads == nil {
		t.Errorf("without the API, config and reloads: nodes %+v, services %v, reloads %v (want empty lists, API off)", snap.Nodes, snap.Services, snap.Reloads)
	}
}

func TestNodesError(t *testing.T) {
	t.Parallel()
	st := New(Options{Gatherer: prometheus.NewRegistry(), Nodes: staticNodes{err: errors.New("redis: i/o timeout")}})
	snap := st.Snapshot(context.Background())
	if !snap.Nodes.Enabled || snap.Nodes.Error != "redis: i/o timeout" || snap.Nodes.List == nil {
		t.Errorf("nodes = %+v", snap.Nodes)
	}
}

// TestPageIsSelfContained: the page, its script and style are served from
// the binary with a CSP that allows nothing from elsewhere, and refer to
// nothing outside /status.
func TestPageIsSelfContained(t *testing.T) {
	t.Parallel()
	st := New(Options{Gatherer: prometheus.NewRegistry()})
	srv := httptest.NewServer(st.Handler())
	defer srv.Close()
	cases := []struct {
		path, contentType, contains string
	}{
		{"/status", "text/html; charset=utf-8", `<script src="/status/app.js"`},
		{"/status/app.js", "text/javascript; charset=utf-8", "fetch('/status.json'"},
		{"/status/app.css", "text/css; charset=utf-8", "svg .line"},
	}
	for _, tc := range cases {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.contentType || !strings.Contains(string(body), tc.contains) {
			t.Errorf("GET %s = %d %s, body contains %q: %v", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.contains, strings.Contains(string(body), tc.contains))
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("GET %s: CSP %q", tc.path, csp)
		}
		// The SVG namespace is a name, not an address.
		text := strings.ReplaceAll(string(body), "'http://www.w3.org/2000/svg'", "")
		for _, outside := range []string{"http://", "https://", "//cdn"} {
			if strings.Contains(text, outside) {
				t.Errorf("GET %s refers to %q: the page must work offline", tc.path, outside)
			}
		}
	}
	resp, err := http.Post(srv.URL+"/status.json", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /status.json = %d, want 405", resp.StatusCode)
	}
}

// TestRunEndsWithItsContext: the sampler is the package's only goroutine
// and ends when its owner cancels it.
func TestRunEndsWithItsContext(t *testing.T) {
	t.Parallel()
	st := New(Options{Gatherer: prometheus.NewRegistry(), Interval: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); st.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st.mu.Lock()
		n := st.samples.len()
		st.mu.Unlock()
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Run took %d samples in 5 s at 1 ms", n)
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// TestCallbacksByService: with the per-service histogram, the table has a
// row per service and callback; the ticket validation has no service.
func TestCallbacksByService(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	st := New(Options{Gatherer: m.Own()})
	for _, o := range []struct {
		service, callback string
		n                 int
	}{{"books", "authorizer", 3}, {"chat", "authorizer", 2}, {"", "ticket", 1}} {
		for range o.n {
			m.CallbackDuration.WithLabelValues(o.callback, "ok").Observe(0.02)
			m.ServiceCallbackDuration.WithLabelValues(o.service, o.callback, "ok").Observe(0.02)
		}
	}
	st.Sample()
	var got []string
	for _, c := range st.Snapshot(context.Background()).Callbacks {
		got = append(got, fmt.Sprintf("%s/%s=%d", c.Service, c.Callback, c.Calls))
	}
	if want := "/ticket=1 books/authorizer=3 chat/authorizer=2"; strings.Join(got, " ") != want {
		t.Errorf("callbacks = %q, want %q", strings.Join(got, " "), want)
	}
}
