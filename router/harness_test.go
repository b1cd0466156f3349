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

	"github.com/coder/websocket"
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
	rdb := testRedis(t).Client(t)
	h := &harness{t: t, r: r, srv: serve(t, r), rdb: rdb, prefix: cfg.Redis.ChannelPrefix, cfg: cfg}
	wstest.Eventually(t, 10*time.Second, "router ready", func() bool { return r.Ready() == nil })
	return h
}

// serve starts r on an httptest server; when the test ends the server
// closes and r shuts down.
func serve(t testing.TB, r *Router) *httptest.Server {
	r.Start()
	srv := httptest.NewServer(r)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r.Shutdown(ctx)
	})
	return srv
}

// exchange is one event a test sends and the reply it expects.
type exchange struct{ name, send, want string }

// exchanges runs each exchange as a subtest of t, in order on c: it sends
// send and expects want as the next frame.
func exchanges(t *testing.T, c *wstest.Client, cases []exchange) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := c.For(t)
			c.Send(tc.send)
			c.Expect(tc.want)
		})
	}
}

// subscribeMany dials n connections to url, at most parallel at a time,
// subscribes each to topic(i) and reads its ok reply. The connections have
// no reader, so many cost little; where one failed the test is marked
// failed and the connection is nil. The caller closes them.
func subscribeMany(t testing.TB, url string, n, parallel int, topic func(i int) string) []*websocket.Conn {
	conns := make([]*websocket.Conn, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, _, err := websocket.Dial(ctx, url, nil)
			if err != nil {
				t.Error(err)
				return
			}
			_ = c.Write(ctx, websocket.MessageText, []byte(`{"event":"subscribe","subscription":"`+topic(i)+`"}`))
			if _, b, err := c.Read(ctx); err != nil || !strings.Contains(string(b), `"ok"`) {
				t.Errorf("subscribe: %s %v", b, err)
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	return conns
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

// wsURL is the router's WebSocket URL with query ("" or "?...").
func (h *harness) wsURL(query string) string {
	return "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/ws" + query
}

// dial connects a client to the router.
func (h *harness) dial() *wstest.Client {
	h.t.Helper()
	return wstest.Dial(h.t, h.wsURL(""))
}
