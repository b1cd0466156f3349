package main

import (
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// TestMetricsEndpoints: /healthz answers 200 and /metrics carries every
// series of SPEC section 6, counting what the test did.
func TestMetricsEndpoints(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	svc := wstest.NewService(t)
	cfg := baseConfig(t, rs.URL())
	cfg.services()["books"] = callbacksAt(svc, "before_subscribe")
	p := startRouter(t, cfg)

	if code, body, err := p.get("/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d %q %v", code, body, err)
	}
	c := wstest.Dial(t, p.url())
	c.Subscribe("books.m", nil)
	if r := c.Request(map[string]any{"event": "ping"}); r["event"] != "pong" {
		t.Fatalf("ping reply %v", r)
	}
	if r := c.Request(map[string]any{"event": "nope"}); r["error"] != "Event not found." {
		t.Fatalf("unknown event reply %v", r)
	}
	pub := newPublisher(t, rs)
	pub.raw("books.m", `{"subscription":"books.other","data":1}`) // malformed: wrong subscription
	pub.publish("books.m", "hello")
	c.ExpectMessage("books.m", "hello")
	p.signal(syscall.SIGHUP)
	p.waitReloads(1, "SIGHUP")

	want := []struct {
		name   string
		labels []string
		check  func(float64) bool
		desc   string
	}{
		{"wsrouter_connections", nil, eq(1), "1"},
		{"wsrouter_connections_total", nil, eq(1), "1"},
		{"wsrouter_events_total", []string{"event=subscribe", "result=ok"}, eq(1), "1"},
		{"wsrouter_events_total", []string{"event=ping", "result=ok"}, eq(1), "1"},
		{"wsrouter_events_total", []string{"result=error"}, eq(1), "1 (the unknown event)"},
		{"wsrouter_deliveries_total", nil, eq(1), "1"},
		{"wsrouter_dropped_total", []string{"reason=malformed"}, eq(1), "1"},
		{"wsrouter_dropped_total", []string{"reason=filter"}, eq(0), "0"},
		{"wsrouter_dropped_total", []string{"reason=order"}, eq(0), "0"},
		{"wsrouter_dropped_total", []string{"reason=throttle"}, eq(0), "0"},
		{"wsrouter_dropped_total", []string{"reason=slow_consumer"}, eq(0), "0"},
		{"wsrouter_callback_duration_seconds_count", []string{"callback=before_subscribe", "result=ok"}, eq(1), "1"},
		{"wsrouter_callback_duration_seconds_bucket", []string{"callback=before_subscribe", "result=ok", "le=+Inf"}, eq(1), "1"},
		{"wsrouter_redis_up", nil, eq(1), "1"},
		{"wsrouter_subscriptions", []string{"service=books"}, eq(1), "1"},
		{"wsrouter_ready", nil, eq(1), "1"},
		{"wsrouter_config_reload_total", []string{"result=ok"}, eq(1), "1"},
		{"wsrouter_config_reload_total", []string{"result=error"}, eq(0), "0"},
		{"go_goroutines", nil, func(v float64) bool { return v > 0 }, "> 0"},
	}
	// Counters of work done off the client's path (a delivery is counted
	// after it is queued) may trail the frames by a moment.
	deadline := time.Now().Add(5 * time.Second)
	for {
		samples := p.scrape()
		var bad []string
		for _, w := range want {
			v, ok := find(samples, w.name, w.labels...)
			if !ok || !w.check(v) {
				bad = append(bad, w.name+"{"+strings.Join(w.labels, ",")+"}: want "+w.desc)
			}
		}
		if len(bad) == 0 {
			break
		}
		if time.Now().After(deadline) {
			_, body, _ := p.get("/metrics")
			t.Fatalf("metrics off:\n%s\n\n%s", strings.Join(bad, "\n"), wsrouterLines(body))
		}
		time.Sleep(25 * time.Millisecond)
	}

	_, body, _ := p.get("/metrics")
	for name, typ := range map[string]string{
		"wsrouter_connections":               "gauge",
		"wsrouter_connections_total":         "counter",
		"wsrouter_events_total":              "counter",
		"wsrouter_deliveries_total":          "counter",
		"wsrouter_dropped_total":             "counter",
		"wsrouter_callback_duration_seconds": "histogram",
		"wsrouter_redis_up":                  "gauge",
		"wsrouter_config_reload_total":       "counter",
		"wsrouter_subscriptions":             "gauge",
		"wsrouter_ready":                     "gauge",
	} {
		if !strings.Contains(body, "# TYPE "+name+" "+typ+"\n") {
			t.Errorf("%s is not a %s", name, typ)
		}
	}
}

func eq(want float64) func(float64) bool { return func(v float64) bool { return v == want } }

func wsrouterLines(body string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "wsrouter_") && !strings.Contains(l, "_bucket") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
