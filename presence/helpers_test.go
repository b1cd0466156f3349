package presence

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/internal/clock"
)

// newFakeClock is a clock the test moves, at a fixed start.
func newFakeClock() *clock.Manual {
	return clock.NewManual(time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC))
}

// recorder collects the events published on a channel.
type recorder struct {
	mu     sync.Mutex
	events []string // "join {...}", "leave {...}"
}

// record subscribes to channel and records every presence event on it
// until the test ends.
func record(t *testing.T, c *redis.Client, channel string) *recorder {
	t.Helper()
	ps := c.Subscribe(context.Background(), channel)
	if _, err := ps.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for msg := range ps.Channel() {
			e, ok := ParseEvent([]byte(msg.Payload))
			if !ok {
				t.Errorf("published payload is not a presence event: %s", msg.Payload)
				continue
			}
			r.mu.Lock()
			r.events = append(r.events, e.Kind+" "+string(e.Member))
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ps.Close()
		<-done
	})
	return r
}

// wait polls until the recorded events equal want.
func (r *recorder) wait(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		got := slices.Clone(r.events)
		r.mu.Unlock()
		if slices.Equal(got, want) || (len(got) == 0 && len(want) == 0) {
			return
		}
		if len(got) > len(want) || time.Now().After(deadline) {
			t.Fatalf("events = %q, want %q", got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// newTracker returns a tracker of node on c with the fake clock.
func newTracker(t *testing.T, c *redis.Client, node string, clock *clock.Manual) *Tracker {
	t.Helper()
	tr, err := New(Options{Client: c, Prefix: "p:", NodeID: node, TTL: 30 * time.Second, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// members lists name's members as strings.
func members(t *testing.T, tr *Tracker, name string) []string {
	t.Helper()
	l, err := tr.Members(context.Background(), name, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	return strs(l.Members)
}

func strs(ms []json.RawMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m)
	}
	return out
}

// keyspace returns every key in the Redis.
func keyspace(t *testing.T, c *redis.Client) []string {
	t.Helper()
	ks, err := c.Keys(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ks)
	return ks
}
