package router

import (
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// TestSubscriptionsGauge: wsrouter_subscriptions{service} follows
// subscribes, unsubscribes and closed connections, per service.
func TestSubscriptionsGauge(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Services["books"] = open()
	cfg.Services["chat"] = open()
	h := newHarness(t, cfg)
	gauge := func(service string) float64 {
		var m dto.Metric
		if err := h.r.metrics.Subscriptions.WithLabelValues(service).Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetGauge().GetValue()
	}
	want := func(what string, books, chat float64) {
		t.Helper()
		eventually(t, 5*time.Second, what, func() bool { return gauge("books") == books && gauge("chat") == chat })
	}

	a := h.dial()
	for _, name := range []string{"books.a", "books.b", "chat.x"} {
		a.send(`{"event":"subscribe","subscription":"` + name + `"}`)
		a.expect(`{"event":"subscribe","subscription":"` + name + `","status":"ok"}`)
	}
	want("after three subscribes", 2, 1)

	a.send(`{"event":"unsubscribe","subscription":"books.a"}`)
	a.expect(`{"event":"unsubscribe","subscription":"books.a","status":"ok"}`)
	want("after an unsubscribe", 1, 1)

	b := h.dial()
	b.send(`{"event":"subscribe","subscription":"chat.x"}`)
	b.expect(`{"event":"subscribe","subscription":"chat.x","status":"ok"}`)
	b.send(`{"event":"subscribe","subscription":"chat.x"}`)
	b.expect(`{"event":"subscribe","subscription":"chat.x","status":"error","error":"Already subscribed."}`)
	want("after a second client and a refused duplicate", 1, 2)

	a.conn.CloseNow()
	want("after the first client closed", 0, 1)
}
