package main

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// TestReloadStress: 100 reloads, alternately adding and removing an
// unrelated service, while 200 clients receive a steady numbered stream on
// one topic: every client gets every message once, in order.
func TestReloadStress(t *testing.T) {
	if testing.Short() {
		t.Skip("stress test")
	}
	t.Parallel()
	const (
		clients = 200
		reloads = 100
		topic   = "books.stream"
		every   = 5 * time.Millisecond
	)
	rs := testredis.Start(t)
	cfgA := baseConfig(t, rs.URL())
	cfgA.services()["books"] = map[string]any{"require_authentication": false}
	cfgB := cfgA.clone()
	cfgB.services()["other"] = map[string]any{"require_authentication": false, "extra_fields": []string{"x"}}
	p := startRouter(t, cfgA)

	subs := make([]*wstest.Client, clients)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range subs {
		subs[i] = wstest.DialWith(t, p.url(), wstest.Options{Queue: 1 << 14})
	}
	for _, c := range subs {
		wg.Add(1)
		go func() { // subscribe on all at once; t.Fatal is not for goroutines
			defer wg.Done()
			b, _ := json.Marshal(map[string]any{"event": "subscribe", "subscription": topic})
			if err := c.WriteText(b); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, c := range subs {
		if r := c.ReadWithin(10 * time.Second); r["status"] != "ok" {
			t.Fatalf("client %d: subscribe reply %v", i, r)
		}
	}

	pub := newPublisher(t, rs)
	var last atomic.Int64
	stop := make(chan struct{})
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			n := int(last.Load()) + 1
			b, _ := json.Marshal(map[string]any{"subscription": topic, "data": numbered(n)})
			if err := pub.rdb.Publish(t.Context(), topic, b).Err(); err != nil {
				return // reported below as a shortfall
			}
			last.Store(int64(n))
		}
	}()

	for i := range reloads {
		cfg := cfgB
		if i%2 == 1 {
			cfg = cfgA
		}
		p.replaceConfig(cfg) // whole files only: TestReloadEmptyFile covers a save caught midway
		p.signal(syscall.SIGHUP)
		p.waitReloads(i+1, "SIGHUP")
		// Let the stream move on between reloads, so that they interleave.
		next, deadline := last.Load()+2, time.Now().Add(10*time.Second)
		for last.Load() < next {
			if time.Now().After(deadline) {
				t.Fatalf("the publisher stalled at message %d", last.Load())
			}
			time.Sleep(time.Millisecond)
		}
	}
	close(stop)
	<-pubDone
	total := int(last.Load())
	if total < 2*reloads {
		t.Fatalf("only %d messages published during the reloads", total)
	}
	t.Logf("%d messages to %d clients during %d reloads", total, clients, reloads)

	for i, c := range subs {
		for want := 1; want <= total; want++ {
			m := c.ReadWithin(10 * time.Second)
			got, ok := seqOf(m)
			if !ok || m["event"] != "message" || m["subscription"] != topic {
				t.Fatalf("client %d: unexpected frame %v", i, m)
			}
			if got != want {
				t.Fatalf("client %d: got message %d, want %d (lost or duplicated)", i, got, want)
			}
		}
	}
	// Nothing after the last one: publish a marker and require it next.
	marker := total + 1
	pub.publish(topic, numbered(marker))
	for i, c := range subs {
		if got, _ := seqOf(c.ReadWithin(10 * time.Second)); got != marker {
			t.Fatalf("client %d: got %d after the stream, want the marker %d", i, got, marker)
		}
	}
	if v := p.metric("wsrouter_config_reload_total", "result=error"); v != 0 {
		t.Errorf("%v reloads failed", v)
	}
}
