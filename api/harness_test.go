package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/services"
)

// testKey is the API key of the test configurations.
const testKey = "test-key-0123456789"

// sharedRedis is one Redis for the package's tests; each test has its own
// channel prefix.
var (
	sharedOnce  sync.Once
	sharedRedis *testredis.Server
	prefixSeq   atomic.Int64
)

type redisHolder struct{ testing.TB }

func (redisHolder) Cleanup(func()) {} // lives for the whole test binary, stopped by TestMain

// harness is an API in front of a real Redis, with a channel prefix of its
// own so tests can share one server.
type harness struct {
	t      *testing.T
	rdb    *redis.Client
	cfg    *services.Config
	api    *Server
	srv    *httptest.Server
	client *http.Client // sends Expect: 100-continue
	reg    *prometheus.Registry
	ready  func() error
	prefix string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	sharedOnce.Do(func() { sharedRedis = testredis.Start(redisHolder{t}) })
	srv := sharedRedis
	prefix := fmt.Sprintf("t%d:", prefixSeq.Add(1))
	cfg := services.Default()
	cfg.Redis.URL = srv.URL()
	cfg.Redis.ChannelPrefix = prefix
	cfg.API = services.API{Listen: "127.0.0.1:0", Keys: []string{testKey}, MaxBodyBytes: 1 << 20}
	cfg.Services["books"] = &services.Service{}
	cfg.Services["news"] = nil
	cfg.Services["log"] = &services.Service{History: &services.History{Size: 5, TTL: services.Duration(time.Minute)}}
	cfg.Services["chat"] = &services.Service{Presence: true, PresenceFields: []string{"user_id"}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, rdb: srv.Client(t), cfg: cfg, reg: prometheus.NewRegistry(), prefix: prefix}
	pres, err := NewPresence(h.rdb, prefix, "test-node")
	if err != nil {
		t.Fatal(err)
	}
	h.api = New(cfg, Options{Redis: h.rdb, Registerer: h.reg, History: NewHistory(h.rdb, prefix), Presence: pres,
		Ready: func() error {
			if h.ready != nil {
				return h.ready()
			}
			return nil
		}})
	h.srv = httptest.NewServer(h.api)
	t.Cleanup(h.srv.Close)
	tr := h.srv.Client().Transport.(*http.Transport).Clone()
	tr.ExpectContinueTimeout = 5 * time.Second
	h.client = &http.Client{Transport: tr}
	t.Cleanup(tr.CloseIdleConnections)
	return h
}

// do sends a request with the test key and returns the status and the
// decoded answer.
func (h *harness) do(method, path string, body any) (int, map[string]any) {
	h.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = bytes.NewReader([]byte(b))
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	return h.doWith(method, path, r, "Bearer "+testKey)
}

// doWith sends a request with the given Authorization header ("" for
// none).
func (h *harness) doWith(method, path string, body io.Reader, auth string) (int, map[string]any) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	// As curl does for large bodies: a body the server refuses unread is
	// not sent, so the answer is not lost to a reset connection.
	req.Header.Set("Expect", "100-continue")
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		h.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		h.t.Fatalf("%s %s: answer %q is not a JSON object: %v", method, path, raw, err)
	}
	return resp.StatusCode, m
}

// listen subscribes to the Redis channels of names (under the prefix) and
// returns the messages as they arrive.
func (h *harness) listen(channels ...string) <-chan *redis.Message {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ps := h.rdb.Subscribe(ctx, channels...)
	for range channels {
		if _, err := ps.Receive(ctx); err != nil {
			h.t.Fatal(err)
		}
	}
	out := make(chan *redis.Message, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			m, err := ps.ReceiveMessage(context.Background())
			if err != nil {
				return
			}
			out <- m
		}
	}()
	h.t.Cleanup(func() { _ = ps.Close(); <-done })
	return out
}

// next returns the next message, failing the test after a few seconds.
func next(t *testing.T, ch <-chan *redis.Message) *redis.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
	}
	return nil
}

// none checks that nothing arrived on ch; called after a later message
// proved the earlier ones were sent.
func none(t *testing.T, ch <-chan *redis.Message) {
	t.Helper()
	select {
	case m := <-ch:
		t.Errorf("unexpected message on %s: %s", m.Channel, m.Payload)
	default:
	}
}

var errDown = errors.New("redis: connection refused")
