package router

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/internal/testredis"
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

// client is a real WebSocket client whose frames are read in the background.
type client struct {
	t       testing.TB
	conn    *websocket.Conn
	frames  chan []byte
	done    chan struct{}
	err     error
	endedAt time.Time // when the reader saw the connection end
}

func (h *harness) dial() *client {
	h.t.Helper()
	return dialURL(h.t, "ws"+strings.TrimPrefix(h.srv.URL, "http")+"/ws")
}

func dialURL(t testing.TB, url string) *client {
	t.Helper()
	return dialURLWith(t, url, nil)
}

// dialURLWith is dialURL with dial options (headers).
func dialURLWith(t testing.TB, url string, opts *websocket.DialOptions) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetReadLimit(1 << 20)
	c := &client{t: t, conn: conn, frames: make(chan []byte, 4096), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				c.err, c.endedAt = err, time.Now()
				return
			}
			c.frames <- b
		}
	}()
	t.Cleanup(func() { conn.CloseNow(); <-c.done })
	return c
}

// send writes one frame (a string is sent as is, anything else as JSON).
func (c *client) send(v any) {
	c.t.Helper()
	var b []byte
	switch v := v.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			c.t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// next returns the next frame, failing the test after 5 seconds.
func (c *client) next() []byte {
	c.t.Helper()
	select {
	case b := <-c.frames:
		return b
	case <-c.done:
		select {
		case b := <-c.frames:
			return b
		default:
		}
		c.t.Fatalf("connection ended while a frame was expected: %v", c.err)
	case <-time.After(5 * time.Second):
		c.t.Fatal("no frame within 5s")
	}
	return nil
}

// expect reads the next frame and compares it with want as JSON.
func (c *client) expect(want string) {
	c.t.Helper()
	got := c.next()
	if !jsonSame(got, []byte(want)) {
		c.t.Fatalf("frame mismatch\n got: %s\nwant: %s", got, want)
	}
}

// quiet asserts no frame arrives within d.
func (c *client) quiet(d time.Duration) {
	c.t.Helper()
	select {
	case b := <-c.frames:
		c.t.Fatalf("unexpected frame: %s", b)
	case <-time.After(d):
	}
}

// closed waits for the server to close the connection and returns the
// close status.
func (c *client) closed() websocket.StatusCode {
	c.t.Helper()
	select {
	case <-c.done:
		return websocket.CloseStatus(c.err)
	case <-time.After(10 * time.Second):
		c.t.Fatal("connection still open after 10s")
	}
	return 0
}

func jsonSame(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// service is a fake service: an httptest server that records every
// callback and answers with the handler registered for its path, or
// {"status":"ok"}.
type service struct {
	t        testing.TB
	srv      *httptest.Server
	mu       sync.Mutex
	calls    []callRecord
	handlers map[string]func(body map[string]any) (int, string)
	headers  map[string]string // set on every answer
}

type callRecord struct {
	path string
	body map[string]any
	raw  string
}

func newService(t testing.TB) *service {
	s := &service{t: t, handlers: map[string]func(map[string]any) (int, string){}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		s.mu.Lock()
		s.calls = append(s.calls, callRecord{path: r.URL.Path, body: body, raw: string(raw)})
		h := s.handlers[r.URL.Path]
		for k, v := range s.headers {
			w.Header().Set(k, v)
		}
		s.mu.Unlock()
		status, resp := 200, `{"status":"ok"}`
		if h != nil {
			status, resp = h(body)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, resp)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *service) url(path string) string { return s.srv.URL + path }

// on sets the answer for path.
func (s *service) on(path string, h func(body map[string]any) (int, string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers[path] = h
}

// setHeader adds a header to every answer.
func (s *service) setHeader(key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.headers == nil {
		s.headers = map[string]string{}
	}
	s.headers[key] = value
}

// answer sets a fixed answer for path.
func (s *service) answer(path string, status int, body string) {
	s.on(path, func(map[string]any) (int, string) { return status, body })
}

// callsTo returns the recorded calls to path.
func (s *service) callsTo(path string) []callRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []callRecord
	for _, c := range s.calls {
		if c.path == path {
			out = append(out, c)
		}
	}
	return out
}

// paths returns the paths called, in order.
func (s *service) paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.calls))
	for i, c := range s.calls {
		out[i] = c.path
	}
	return out
}
