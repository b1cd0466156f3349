package router

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/services"
)

// benchFanout is one channel with n subscriptions, each on its own session
// whose outbox writes nowhere: it measures the router's share of a delivery
// (decode, filters, encode, queueing, the writer's wake-up) without sockets.
type benchFanout struct {
	h        *hub
	key      string
	sessions []*session
}

// newBenchFanout builds a router that never connects to Redis, with service
// svc named "bench", and n live subscriptions to "bench.t". extra returns
// the extra fields of subscription i (nil for none).
func newBenchFanout(b testing.TB, svc *services.Service, n int, extra func(i int) []field) *benchFanout {
	b.Helper()
	cfg := services.Default()
	cfg.Redis.URL = "redis://127.0.0.1:1/0" // never dialled: the hub is not started
	cfg.Metrics.Listen = ""
	cfg.Services = map[string]*services.Service{"bench": svc}
	r, err := New(cfg, Options{Logger: testLogger()})
	if err != nil {
		b.Fatal(err)
	}
	bf := &benchFanout{h: r.hubs[0]}
	bf.key = bf.addChannel(b, "bench.t", n, svc, extra).key
	return bf
}

// addChannel adds a channel for subscription name with n live
// subscriptions, each on a session of its own, to the benchmark's hub.
func (bf *benchFanout) addChannel(b testing.TB, name string, n int, svc *services.Service, extra func(i int) []field) *channel {
	h := bf.h
	service := serviceOf(name)
	ch := newChannel(h, h.prefix+name, name, false)
	ch.isReady = true
	close(ch.ready)
	h.channels[ch.key] = ch
	for i := range n {
		s := &session{id: strconv.Itoa(i), r: h.r, ctx: context.Background(), subs: map[string]*subscription{}}
		s.out = newOutbox(1<<30, 1<<62, func([]byte) error { return nil }, func() { b.Error("outbox overflow") }, func(error) {})
		var fs fieldSet
		if extra != nil {
			fs.extra = extra(i)
		}
		fs.extraNames = set(svc.ExtraFields)
		sub := newSubscription(s, name, service, svc, &fs)
		sub.live.Store(true)
		sub.channels = []*channel{ch}
		s.subs[name] = sub
		ch.refs++
		ch.add(sub)
		bf.sessions = append(bf.sessions, s)
	}
	return ch
}

// run fans out b.N messages made by payload and reports the cost per
// delivery, including the writers draining their queues. With distinct,
// every message is made afresh (for rising order values); otherwise 64
// messages repeat.
func (bf *benchFanout) run(b *testing.B, payload func(i int) string, distinct bool) {
	msgs := make([]*redis.Message, 64)
	if distinct {
		msgs = make([]*redis.Message, b.N)
	}
	for i := range msgs {
		msgs[i] = &redis.Message{Channel: bf.key, Payload: payload(i)}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		bf.h.fanout(msgs[i%len(msgs)])
	}
	for _, s := range bf.sessions {
		s.out.wait()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	deliveries := float64(b.N) * float64(len(bf.sessions))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/deliveries, "ns/delivery")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/deliveries, "allocs/delivery")
}

// benchPayload is a publication like wsbench's, with about 100 bytes of
// data. options, when set, is a format with one %d for a rising number.
func benchPayload(options string) func(i int) string {
	return func(i int) string {
		p := fmt.Sprintf(`{"subscription":"bench.t","data":{"seq":%d,"ts":1700000000000000000,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`, i)
		if options != "" {
			p += `,"options":` + fmt.Sprintf(options, i+1)
		}
		return p + "}"
	}
}

func BenchmarkFanout(b *testing.B) {
	sameExtra := func(int) []field { return []field{{name: "room", value: json.RawMessage(`"lobby"`)}} }
	ownExtra := func(i int) []field {
		return []field{{name: "room", value: json.RawMessage(strconv.Quote("r" + strconv.Itoa(i)))}}
	}
	withExtra := &services.Service{ExtraFields: []string{"room"}}
	cases := []struct {
		name    string
		svc     *services.Service
		subs    int
		extra   func(int) []field
		options string
	}{
		{"plain/subs=1", &services.Service{}, 1, nil, ""},
		{"plain/subs=100", &services.Service{}, 100, nil, ""},
		{"plain/subs=10000", &services.Service{}, 10000, nil, ""},
		{"same_extra/subs=10000", withExtra, 10000, sameExtra, ""},
		{"own_extra/subs=1000", withExtra, 1000, ownExtra, ""},
		{"filter/subs=10000", &services.Service{ExtraFields: []string{"room"}, FilterFields: []string{"room"}}, 10000, sameExtra, ""},
		{"order/subs=10000", &services.Service{}, 10000, nil, `{"order":%d}`},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			bf := newBenchFanout(b, tc.svc, tc.subs, tc.extra)
			bf.run(b, benchPayload(tc.options), tc.options != "")
		})
	}
}
