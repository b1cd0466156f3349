package router

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/services"
)

// hangingMessages starts a router whose books service holds every
// on_message call until release is called (at the latest when the test
// ends), and a client subscribed to books.b with one message event in
// that call, so that its next events wait.
func hangingMessages(t *testing.T, eventsPerSecond float64, burst int) (c *wstest.Client, release func()) {
	t.Helper()
	svc := wstest.NewService(t)
	held := make(chan struct{})
	svc.On("/on_message", func(map[string]any) (int, any) {
		<-held
		return 200, `{"status":"ok"}`
	})
	var once sync.Once
	release = func() { once.Do(func() { close(held) }) }
	t.Cleanup(release)
	cfg := testConfig(t)
	cfg.HTTP.Timeout = services.Duration(time.Minute) // the call waits for release
	cfg.WebSocket.EventsPerSecond = eventsPerSecond
	cfg.WebSocket.EventsBurst = burst
	s := open()
	s.OnMessage = svc.URL("/on_message")
	cfg.Services["books"] = s
	h := newHarness(t, cfg)
	c = h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b","status":"ok"}`)
	c.Send(`{"event":"message","subscription":"books.b","data":0}`)
	wstest.Eventually(t, 5*time.Second, "on_message in flight", func() bool { return len(svc.Calls("/on_message")) == 1 })
	return c, release
}

// largeMessage is a message event of about size bytes.
func largeMessage(size int) []byte {
	return fmt.Appendf(nil, `{"event":"message","subscription":"books.b","data":"%s"}`, strings.Repeat("x", size))
}

// TestEventBacklogBytesCloses1008: a client whose waiting events hold more
// than maxQueuedEventBytes is closed with 1008, although it sent far fewer
// than maxQueuedEvents of them.
func TestEventBacklogBytesCloses1008(t *testing.T) {
	t.Parallel()
	c, _ := hangingMessages(t, 1e9, 1e9)
	frame := largeMessage(60 << 10)
	n := 2 * maxQueuedEventBytes / len(frame)
	if n >= maxQueuedEvents {
		t.Fatalf("%d frames reach the count bound; the test is about bytes", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range n {
		if err := c.Conn().Write(ctx, websocket.MessageText, frame); err != nil {
			break // closed by the router
		}
	}
	if got := c.Closed(); got != websocket.StatusPolicyViolation {
		t.Fatalf("close status = %d, want 1008", got)
	}
}

// TestRateLimitedEventsHoldNoBytes: frames over the rate limit wait for
// their answer without their bytes, so many large refused frames neither
// hold memory nor trip the byte bound; each gets its answer, in order.
func TestRateLimitedEventsHoldNoBytes(t *testing.T) {
	t.Parallel()
	c, release := hangingMessages(t, 0.001, 2) // subscribe and the first message take the burst
	frame := largeMessage(60 << 10)
	n := 2 * maxQueuedEventBytes / len(frame)
	for range n {
		c.Send(frame)
	}
	c.Send(`not json`)
	c.Send(`{"event":"ping"}`)
	release()
	for range n {
		c.Expect(`{"event":"message","status":"error","error":"Rate limit exceeded."}`)
	}
	c.Expect(`{"status":"error","error":"Messages must be JSON and contain an event field."}`)
	c.Expect(`{"event":"ping","status":"error","error":"Rate limit exceeded."}`)
}
