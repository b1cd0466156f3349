package router

import "testing"

// BenchmarkSubscribeRoundTrip measures one subscribe and one unsubscribe,
// each answered, on a real WebSocket against a real Redis, with no
// callbacks configured: the client-visible cost of a subscription.
//
//	go test -run '^$' -bench SubscribeRoundTrip ./router/
func BenchmarkSubscribeRoundTrip(b *testing.B) {
	cfg := testConfig(b)
	cfg.Services["books"] = open()
	h := newHarness(b, cfg)
	c := h.dial()
	for b.Loop() {
		c.Send(`{"event":"subscribe","subscription":"books.rt"}`)
		c.Next()
		c.Send(`{"event":"unsubscribe","subscription":"books.rt"}`)
		c.Next()
	}
}
