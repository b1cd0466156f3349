package router

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// TestRedisBufferLimitCutIsExplained: when Redis closes the pub/sub
// connection because its client-output-buffer-limit for pubsub clients was
// exceeded, the log says so and names the setting to raise. It needs a
// real redis-server: the embedded server has no output buffer limits.
func TestRedisBufferLimitCutIsExplained(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	if !rs.Real {
		t.Skip("the embedded Redis has no client-output-buffer-limit")
	}
	rdb := rs.Client(t)
	ctx := context.Background()
	if err := rdb.ConfigSet(ctx, "client-output-buffer-limit", "pubsub 262144 131072 60").Err(); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.Redis.URL = rs.URL()
	cfg.Services["books"] = open()
	var logs lockedBuffer
	h := newHarnessWith(t, cfg, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.big"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.big","status":"ok"}`)

	// One publication larger than the hard limit: Redis closes the
	// subscriber as soon as it is queued, however fast the router reads.
	big := `{"subscription":"books.big","data":"` + strings.Repeat("x", 1<<20) + `"}`
	if err := rdb.Publish(ctx, cfg.Redis.ChannelPrefix+"books.big", big).Err(); err != nil {
		t.Fatal(err)
	}
	wstest.Eventually(t, 10*time.Second, "the reason in the log", func() bool {
		return strings.Contains(strings.Join(logs.lines(), "\n"), "client-output-buffer-limit pubsub 262144 131072 60 exceeded")
	})
	if got := c.Closed(); got != 1011 {
		t.Fatalf("client closed with %d, want 1011 (redis lost)", got)
	}
}
