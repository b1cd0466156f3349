package router

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/services"
)

// sharedRedis is one Redis for the package's tests; each test has its own
// channel prefix.
var (
	sharedRedisOnce sync.Once
	sharedRedis     *testredis.Server
	prefixSeq       atomic.Int64
)

type redisHolder struct{ testing.TB }

func (redisHolder) Cleanup(func()) {} // lives for the whole test binary

func testRedis(t testing.TB) *testredis.Server {
	sharedRedisOnce.Do(func() { sharedRedis = testredis.Start(redisHolder{t}) })
	return sharedRedis
}

// harness is a real router on an httptest server, with real Redis.
type harness struct {
	t      testing.TB
	r      *Router
	srv    *httptest.Server
	rdb    *redis.Client
	prefix string
	cfg    *services.Config
}

// testConfig returns defaults tuned for tests: fast callback retries, no
// rate limit, the shared Redis with a private prefix.
func testConfig(t testing.TB) *services.Config {
	cfg := services.Default()
	cfg.Redis.URL = testRedis(t).URL()
	cfg.Redis.ChannelPrefix = fmt.Sprintf("t%d:", prefixSeq.Add(1))
	cfg.Redis.PingInterval = services.Duration(time.Second)
	cfg.Redis.PingTimeout = services.Duration(5 * time.Second) // loaded CI machines are slow
	cfg.Metrics.Listen = ""
	cfg.HTTP.Timeout = services.Duration(2 * time.Second)
	cfg.HTTP.Tries = 2
	cfg.HTTP.Wait = services.Duration(10 * time.Millisecond)
	cfg.HTTP.CloseCallbacksPerSecond = 10000
	cfg.WebSocket.EventsPerSecond = 1e9
	cfg.WebSocket.EventsBurst = 1e9
	cfg.ShutdownTimeout = services.Duration(5 * time.Second)
	cfg.Services = map[string]*services.Service{}
	return cfg
}

func testLogger() *slog.Logger {
	if os.Getenv("WSROUTER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newHarness starts a router for cfg and waits until it is ready.
func newHarness(t testing.TB, cfg *services.Config) *harness {
	t.Helper()
	return newHarnessWith(t, cfg, Options{})
}

// newHarnessWith is newHarness with opts for the router (the tests' logger
// unless opts has one).
func newHarnessWith(t testing.TB, cfg *services.Config, opts Options) *harness {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger()
	}
	r, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	r.Start()
	srv := httptest.NewServer(r)
	h := &harness{t: t, r: r, srv: srv, rdb: testRedis(t).Client(t), prefix: cfg.Redis.ChannelPrefix, cfg: cfg}
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r.Shutdown(ctx)
	})
	eventually(t, 10*time.Second, "router ready", func() bool { return r.Ready() == nil })
	return h
}

// publish publishes a raw payload to the channel of subscription name.
func (h *harness) publish(name, payload string) {
	h.t.Helper()
	if err := h.rdb.Publish(context.Background(), h.prefix+name, payload).Err(); err != nil {
		h.t.Fatalf("publish: %v", err)
	}
}

// numsub returns PUBSUB NUMSUB for the channel of name.
func (h *harness) numsub(name string) int64 {
	h.t.Helper()
	res, err := h.rdb.PubSubNumSub(context.Background(), h.prefix+name).Result()
	if err != nil {
		h.t.Fatalf("numsub: %v", err)
	}
	return res[h.prefix+name]
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wsURL is the router's WebSocket URL with query ("" or "?...").
func (h *harness) wsURL(query string) string {
	return "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/ws" + query
}

// dial connects a client to the router.
func (h *harness) dial() *wstest.Client {
	h.t.Helper()
	return wstest.Dial(h.t, h.wsURL(""))
}
