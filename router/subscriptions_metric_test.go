package router

import (
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/wsrouter/wsrouter/internal/wstest"
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
		wstest.Eventually(t, 5*time.Second, what, func() bool { return gauge("books") == books && gauge("chat") == chat })
	}

	a := h.dial()
	for _, name := range []string{"books.a", "books.b", "chat.x"} {
		a.Send(`{"event":"subscribe","subscription":"` + name + `"}`)
		a.Expect(`{"event":"subscribe","subscription":"` + name + `","status":"ok"}`)
	}
	want("after three subscribes", 2, 1)

	a.Send(`{"event":"unsubscribe","subscription":"books.a"}`)
	a.Expect(`{"event":"unsubscribe","subscription":"books.a","status":"ok"}`)
	want("after an unsubscribe", 1, 1)

	b := h.dial()
	b.Send(`{"event":"subscribe","subscription":"chat.x"}`)
	b.Expect(`{"event":"subscribe","subscription":"chat.x","status":"ok"}`)
	b.Send(`{"event":"subscribe","subscription":"chat.x"}`)
	b.Expect(`{"event":"subscribe","subscription":"chat.x","status":"error","error":"Already subscribed."}`)
	want("after a second client and a refused duplicate", 1, 2)

	a.CloseNow()
	want("after the first client closed", 0, 1)
}
