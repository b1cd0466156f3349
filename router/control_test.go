package router

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/control"
	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/services"
)

// TestControlCommands publishes commands on the control channel, as the
// HTTP API does, and checks which sessions they reach.
func TestControlCommands(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	svc.On("/ticket", func(body map[string]any) (int, any) {
		return 200, fmt.Sprintf(`{"status":"ok","user_id":%q}`, body["ticket"])
	})
	cfg := ticketConfig(t, svc)
	cfg.Services["books"] = &services.Service{OnUnsubscribe: svc.URL("/on_unsubscribe")}
	h := newHarness(t, cfg)
	clientOf := func(user string) *wstest.Client {
		c := h.dial()
		c.Send(map[string]any{"event": "auth", "ticket": user})
		c.Expect(`{"event":"auth","status":"ok"}`)
		c.Send(map[string]any{"event": "subscribe", "subscription": "books.b1"})
		c.Expect(`{"event":"subscribe","status":"ok","subscription":"books.b1"}`)
		return c
	}
	u1, u2, u1b := clientOf("u1"), clientOf("u2"), clientOf("u1")
	anon := h.dial()
	command := func(cmd control.Command) {
		t.Helper()
		b, err := cmd.Encode()
		if err != nil {
			t.Fatal(err)
		}
		h.publish("_wsrouter.control", string(b))
	}

	// Unsubscribe by session id reaches that session only.
	var id string
	h.r.mu.Lock()
	for s := range h.r.sessions {
		if m := s.authSnapshot(); m != nil && string(m["user_id"]) == `"u2"` {
			id = s.id
		}
	}
	h.r.mu.Unlock()
	command(control.Command{Op: control.Unsubscribe, Session: id, Subscription: "books.b1"})
	u2.Expect(`{"event":"unsubscribe","subscription":"books.b1","error":"Unsubscribed by the service."}`)
	wstest.Eventually(t, 5*time.Second, "on_unsubscribe called", func() bool { return len(svc.Calls("/on_unsubscribe")) == 1 })
	u2.Send(map[string]any{"event": "unsubscribe", "subscription": "books.b1"})
	u2.Expect(`{"event":"unsubscribe","status":"error","subscription":"books.b1","error":"Subscription does not exist."}`)

	// A command naming a subscription nobody has, or an unknown user,
	// does nothing; garbage on the channel is ignored.
	command(control.Command{Op: control.Unsubscribe, Match: map[string]json.RawMessage{"user_id": json.RawMessage(`"u1"`)}, Subscription: "books.other"})
	command(control.Command{Op: control.Disconnect, Match: map[string]json.RawMessage{"user_id": json.RawMessage(`"nobody"`)}})
	h.publish("_wsrouter.control", `{"op":"disconnect"}`)
	h.publish("_wsrouter.control", `not json`)

	// Disconnect by auth field closes every session of that user with
	// 4000, and no other.
	command(control.Command{Op: control.Disconnect, Match: map[string]json.RawMessage{"user_id": json.RawMessage(`"u1"`)}})
	for _, c := range []*wstest.Client{u1, u1b} {
		if code := c.Closed(); code != closeDisconnected {
			t.Errorf("close code %d, want 4000", code)
		}
	}
	for _, c := range []*wstest.Client{u2, anon} {
		c.Send(`{"event":"ping","data":"x"}`)
		c.Expect(`{"event":"pong","data":"x"}`)
	}
}
