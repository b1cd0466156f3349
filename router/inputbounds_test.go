package router

import (
	"strings"
	"testing"

	"github.com/wsrouter/wsrouter/services"
)

// TestSubscriptionBytesBound: a subscription name or an extra field value
// longer than websocket.max_subscription_bytes is a format error for every
// event that names a subscription, and what is over the bound is not
// echoed; at the bound everything works.
func TestSubscriptionBytesBound(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Services["books"] = &services.Service{RequireAuthentication: new(bool), ExtraFields: []string{"org"}}
	h := newHarness(t, cfg)
	limit := cfg.WebSocket.MaxSubscriptionBytes
	if limit != 256 {
		t.Fatalf("default max_subscription_bytes = %d, want 256", limit)
	}
	atLimit := "books." + strings.Repeat("a", limit-len("books."))
	overLimit := atLimit + "a"
	bigValue := `"` + strings.Repeat("v", limit-1) + `"` // limit+1 bytes of JSON
	fmtErr := `"status":"error","error":"Invalid subscription format."`
	cases := []exchange{
		{"name at the bound", `{"event":"subscribe","subscription":"` + atLimit + `"}`,
			`{"event":"subscribe","subscription":"` + atLimit + `","status":"ok"}`},
		{"name over the bound, not echoed", `{"event":"subscribe","subscription":"` + overLimit + `"}`,
			`{"event":"subscribe",` + fmtErr + `}`},
		{"escaped name within the bound, echoed as sent", `{"event":"subscribe","subscription":"books.\u0041"}`,
			`{"event":"subscribe","subscription":"books.\u0041","status":"ok"}`},
		{"large non-string name, not echoed", `{"event":"subscribe","subscription":{"x":"` + strings.Repeat("y", 60<<10) + `"}}`,
			`{"event":"subscribe",` + fmtErr + `}`},
		{"extra field at the bound", `{"event":"subscribe","subscription":"books.e1","org":"` + strings.Repeat("v", limit-2) + `"}`,
			`{"event":"subscribe","subscription":"books.e1","org":"` + strings.Repeat("v", limit-2) + `","status":"ok"}`},
		{"extra field over the bound, not echoed", `{"event":"subscribe","subscription":"books.e2","org":` + bigValue + `}`,
			`{"event":"subscribe","subscription":"books.e2",` + fmtErr + `}`},
		{"message with a name over the bound", `{"event":"message","subscription":"` + overLimit + `","data":1}`,
			`{"event":"message",` + fmtErr + `}`},
		{"unsubscribe with a name over the bound", `{"event":"unsubscribe","subscription":"` + overLimit + `"}`,
			`{"event":"unsubscribe",` + fmtErr + `}`},
		{"unsubscribe at the bound", `{"event":"unsubscribe","subscription":"` + atLimit + `"}`,
			`{"event":"unsubscribe","subscription":"` + atLimit + `","status":"ok"}`},
	}
	c := h.dial()
	exchanges(t, c, cases)
	if n := h.numsub("books.e2"); n != 0 {
		t.Errorf("refused subscription books.e2 has %d Redis subscribers", n)
	}
}

// TestInvalidUTF8RefusedAtTheEdge: a client frame that is not UTF-8 gets
// the error reply and nothing of it is echoed; a publication that is not
// UTF-8 is dropped and counted as malformed. Every frame the client gets
// is UTF-8, so browsers do not close with 1007.
func TestInvalidUTF8RefusedAtTheEdge(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Services["books"] = &services.Service{RequireAuthentication: new(bool), ExtraFields: []string{"org"}}
	h := newHarness(t, cfg)
	c := h.dial()
	bad := `{"status":"error","error":"Messages must be JSON and contain an event field."}`
	for _, frame := range []string{
		"{\"event\":\"subscribe\",\"subscription\":\"books.\xff\"}",
		"{\"event\":\"subscribe\",\"subscription\":\"books.u\",\"org\":\"\xc3\x28\"}",
		"{\"event\":\"ping\",\"data\":\"\xed\xa0\x80\"}",
		"{\"event\":\"nope\xfe\"}",
	} {
		c.Send(frame)
		c.Expect(bad)
	}
	c.Send(`{"event":"subscribe","subscription":"books.u"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.u","status":"ok"}`)
	malformed := h.r.metrics.Dropped.WithLabelValues("malformed")
	before := counterValue(t, malformed)
	h.publish("books.u", "{\"subscription\":\"books.u\",\"data\":\"\xff\"}")
	h.publish("books.u", `{"subscription":"books.u","data":"fine"}`)
	c.Expect(`{"event":"message","subscription":"books.u","data":"fine"}`)
	if got := counterValue(t, malformed) - before; got != 1 {
		t.Errorf("malformed drops = %v, want 1", got)
	}
}
