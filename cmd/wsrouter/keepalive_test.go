package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// TestKeepaliveDropsSilentClient: a client that stops answering pings is
// dropped after ping_timeout and its on_unsubscribe is called; a client
// that answers stays.
func TestKeepaliveDropsSilentClient(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	svc := wstest.NewService(t)
	cfg := baseConfig(t, rs.URL())
	cfg["websocket"] = map[string]any{"ping_interval": "200ms", "ping_timeout": "1s"} // a busy CI machine must not miss a pong
	cfg.services()["books"] = callbacksAt(svc, "on_unsubscribe")
	p := startRouter(t, cfg)

	live := wstest.Dial(t, p.url())
	live.Subscribe("books.live", nil)

	// The silent client reads its subscribe reply, then never reads again:
	// coder/websocket answers pings only inside Read.
	silent, err := wstest.DialConn(context.Background(), p.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.CloseNow() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := silent.Write(ctx, websocket.MessageText, []byte(`{"event":"subscribe","subscription":"books.idle"}`)); err != nil {
		t.Fatal(err)
	}
	_, frame, err := silent.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var reply map[string]any
	if err := json.Unmarshal(frame, &reply); err != nil || reply["status"] != "ok" {
		t.Fatalf("subscribe reply %s", frame)
	}

	calls := svc.WaitCalls("/on_unsubscribe", 1, 10*time.Second)
	if sub := calls[0].Body["subscription"]; sub != "books.idle" {
		t.Fatalf("on_unsubscribe for %v, want books.idle", sub)
	}
	line := p.logs.wait(t, time.Second, "no pong", msgIs("no pong within ping_timeout; dropping connection"))
	if line.str("session") == "" {
		t.Errorf("keepalive log line has no session: %s", line.raw)
	}
	// The answering client was pinged all along and is still served.
	if pong := live.Request(map[string]any{"event": "ping", "data": "still here"}); pong["event"] != "pong" || pong["data"] != "still here" {
		t.Fatalf("ping reply %v", pong)
	}
	for _, c := range svc.Calls("/on_unsubscribe") {
		if c.Body["subscription"] == "books.live" {
			t.Fatal("the client that answers pings was dropped too")
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.metric("wsrouter_connections") != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("wsrouter_connections = %v, want 1", p.metric("wsrouter_connections"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
