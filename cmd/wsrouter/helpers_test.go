package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// callbacksAt returns a service section that needs no authentication and
// whose named callbacks point at svc, each at "/NAME".
func callbacksAt(svc *wstest.Service, names ...string) map[string]any {
	m := map[string]any{"require_authentication": false}
	for _, n := range names {
		m[n] = svc.URL("/" + n)
	}
	return m
}

// publisher publishes service messages to one Redis.
type publisher struct {
	t   testing.TB
	rdb *redis.Client
}

func newPublisher(t testing.TB, srv *testredis.Server) *publisher {
	return &publisher{t: t, rdb: srv.Client(t)}
}

// publish sends {"subscription":sub,"data":data} to channel sub and
// returns how many Redis connections received it.
func (p *publisher) publish(sub string, data any) int64 {
	p.t.Helper()
	b, err := json.Marshal(map[string]any{"subscription": sub, "data": data})
	if err != nil {
		p.t.Fatal(err)
	}
	return p.raw(sub, string(b))
}

// raw publishes payload to channel as is.
func (p *publisher) raw(channel, payload string) int64 {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := p.rdb.Publish(ctx, channel, payload).Result()
	if err != nil {
		p.t.Fatalf("publish %s: %v", channel, err)
	}
	return n
}

// numbered is a data payload carrying a sequence number.
func numbered(i int) map[string]any { return map[string]any{"seq": i} }

// seqOf returns the sequence number of a delivery made with numbered.
func seqOf(m map[string]any) (int, bool) {
	d, ok := m["data"].(map[string]any)
	if !ok {
		return 0, false
	}
	f, ok := d["seq"].(float64)
	return int(f), ok
}
