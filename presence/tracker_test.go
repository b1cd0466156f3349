package presence

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/internal/testredis"
)

const (
	alice = `{"user_id":1}`
	bob   = `{"user_id":2}`
)

func TestOneMemberAcrossNodes(t *testing.T) {
	t.Parallel()
	testredis.EachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		clock := newFakeClock()
		a, b := newTracker(t, c, "a", clock), newTracker(t, c, "b", clock)
		rec := record(t, c, "p:chat.1")

		must(t, a.Add(ctx, "chat.1", alice, true))
		rec.wait(t, "join "+alice)
		must(t, a.Add(ctx, "chat.1", alice, true)) // a second tab on node a
		must(t, b.Add(ctx, "chat.1", alice, true)) // a third on node b
		must(t, b.Add(ctx, "chat.1", bob, true))
		rec.wait(t, "join "+alice, "join "+bob)
		for _, k := range keys("p:", "chat.1") {
			if ttl := c.PTTL(ctx, k).Val(); ttl <= 0 || ttl > time.Minute {
				t.Fatalf("key %s expires in %s, want within twice the TTL", k, ttl)
			}
		}
		if got, want := members(t, b, "chat.1"), []string{alice, bob}; !slices.Equal(got, want) {
			t.Fatalf("members = %q, want %q", got, want)
		}

		must(t, a.Remove(ctx, "chat.1", alice, true))
		must(t, a.Remove(ctx, "chat.1", alice, true))
		if got := members(t, a, "chat.1"); !slices.Contains(got, alice) {
			t.Fatalf("alice left while node b still has her subscription: %q", got)
		}
		must(t, b.Remove(ctx, "chat.1", alice, true))
		must(t, b.Remove(ctx, "chat.1", bob, true))
		rec.wait(t, "join "+alice, "join "+bob, "leave "+alice, "leave "+bob)
		if ks := keyspace(t, c); len(ks) != 0 {
			t.Fatalf("keys left after every member left: %q", ks)
		}
		if s := a.Stats(); s.Members != 0 || s.Joins != 1 || s.Leaves != 0 {
			t.Fatalf("node a stats = %+v, want 0 members, 1 join, 0 leaves", s)
		}
		if s := b.Stats(); s.Members != 0 || s.Joins != 1 || s.Leaves != 2 {
			t.Fatalf("node b stats = %+v, want 0 members, 1 join, 2 leaves", s)
		}
	})
}

func TestNoEventsWhenOff(t *testing.T) {
	t.Parallel()
	testredis.EachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		a := newTracker(t, c, "a", newFakeClock())
		rec := record(t, c, "p:chat.1")
		must(t, a.Add(ctx, "chat.1", alice, false))
		if got := members(t, a, "chat.1"); !slices.Equal(got, []string{alice}) {
			t.Fatalf("members = %q", got)
		}
		must(t, a.Remove(ctx, "chat.1", alice, false))
		// An event published after this one would arrive after it.
		must(t, c.Publish(ctx, "p:chat.1", encodeEvent(Join, "chat.1", bob, "", 0)).Err())
		rec.wait(t, "join "+bob)
	})
}

func TestDeadNodeLeavesOnce(t *testing.T) {
	t.Parallel()
	testredis.EachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		clock := newFakeClock()
		dead, b, c2 := newTracker(t, c, "dead", clock), newTracker(t, c, "b", clock), newTracker(t, c, "c", clock)
		rec := record(t, c, "p:chat.1")
		must(t, dead.Add(ctx, "chat.1", alice, true))
		must(t, b.Add(ctx, "chat.1", bob, true))
		must(t, c2.Add(ctx, "chat.1", bob, true))
		rec.wait(t, "join "+alice, "join "+bob)

		clock.Advance(20 * time.Second)
		b.Refresh(ctx)
		c2.Refresh(ctx)
		rec.wait(t, "join "+alice, "join "+bob) // not expired yet
		clock.Advance(11 * time.Second)         // 31 s since the dead node's last write
		var wg sync.WaitGroup
		for _, tr := range []*Tracker{b, c2, b, c2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tr.Refresh(ctx)
			}()
		}
		wg.Wait()
		rec.wait(t, "join "+alice, "join "+bob, "leave "+alice)
		if got := members(t, b, "chat.1"); !slices.Equal(got, []string{bob}) {
			t.Fatalf("members = %q, want only bob", got)
		}
	})
}

func TestMembersSweepsDeadEntries(t *testing.T) {
	t.Parallel()
	testredis.EachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		clock := newFakeClock()
		dead, b := newTracker(t, c, "dead", clock), newTracker(t, c, "b", clock)
		rec := record(t, c, "p:chat.1")
		must(t, dead.Add(ctx, "chat.1", alice, true))
		clock.Advance(31 * time.Second)
		if got := members(t, b, "chat.1"); len(got) != 0 {
			t.Fatalf("members = %q, want none", got)
		}
		rec.wait(t, "join "+alice, "leave "+alice)
		if ks := keyspace(t, c); len(ks) != 0 {
			t.Fatalf("keys left: %q", ks)
		}
	})
}

func TestRefreshKeepsLiveEntries(t *testing.T) {
	t.Parallel()
	testredis.EachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		clock := newFakeClock()
		a, b := newTracker(t, c, "a", clock), newTracker(t, c, "b", clock)
		rec := record(t, c, "p:chat.1")
		must(t, a.Add(ctx, "chat.1", alice, true))
		for range 10 { // 100 s, refreshed every 10 s
			clock.Advance(10 * time.Second)
			a.Refresh(ctx)
			if got := members(t, b, "chat.1"); !slices.Equal(got, []string{alice}) {
				t.Fatalf("members = %q, want alice", got)
			}
		}
		rec.wait(t, "join "+alice)
	})
}

func TestRefreshRestoresSweptEntries(t *testing.T) {
	t.Parallel()
	testredis.EachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		clock := newFakeClock()
		away, b := newTracker(t, c, "away", clock), newTracker(t, c, "b", clock)
		rec := record(t, c, "p:chat.1")
		must(t, away.Add(ctx, "chat.1", alice, true))
		clock.Advance(31 * time.Second) // the node was cut off from Redis
		members(t, b, "chat.1")
		rec.wait(t, "join "+alice, "leave "+alice)
		away.Refresh(ctx) // it is back and still has the subscription
		rec.wait(t, "join "+alice, "leave "+alice, "join "+alice)
		if got := members(t, b, "chat.1"); !slices.Equal(got, []string{alice}) {
			t.Fatalf("members = %q, want alice", got)
		}
	})
}

func TestRefreshRetriesFailedAdd(t *testing.T) {
	t.Parallel()
	testredis.EachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		a := newTracker(t, c, "a", newFakeClock())
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if err := a.Add(cancelled, "chat.1", alice, true); err == nil {
			t.Fatal("Add with a cancelled context succeeded")
		}
		if got := members(t, a, "chat.1"); len(got) != 0 {
			t.Fatalf("members = %q before the refresh", got)
		}
		a.Refresh(ctx)
		if got := members(t, a, "chat.1"); !slices.Equal(got, []string{alice}) {
			t.Fatalf("members = %q after the refresh, want alice", got)
		}
		must(t, a.Remove(ctx, "chat.1", alice, true))
		if ks := keyspace(t, c); len(ks) != 0 {
			t.Fatalf("keys left: %q", ks)
		}
	})
}

func TestMembersSortedAndCapped(t *testing.T) {
	t.Parallel()
	testredis.EachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		a := newTracker(t, c, "a", newFakeClock())
		in := []string{`{"n":"b"}`, `{"n":"a"}`, `{"n":"c"}`, `{"m":1}`, `{}`}
		for _, m := range in {
			must(t, a.Add(ctx, "chat.1", m, false))
		}
		l, err := a.Members(ctx, "chat.1", 3, false)
		must(t, err)
		if got, want := strs(l.Members), []string{`{"m":1}`, `{"n":"a"}`, `{"n":"b"}`}; !slices.Equal(got, want) ||
			l.Total != 5 || !l.Truncated {
			t.Fatalf("members = %q total %d truncated %v, want %q total 5 truncated", got, l.Total, l.Truncated, want)
		}
		l, err = a.Members(ctx, "chat.1", 0, false)
		must(t, err)
		if len(l.Members) != 5 || l.Truncated || string(l.Members[4]) != `{}` {
			t.Fatalf("members = %q truncated %v, want all 5 ending with {}", strs(l.Members), l.Truncated)
		}
		l, err = a.Members(ctx, "chat.none", 0, false)
		must(t, err)
		if len(l.Members) != 0 || l.Total != 0 || l.Truncated {
			t.Fatalf("members of an unknown name = %+v", l)
		}
	})
}

func TestChurnLeavesNothing(t *testing.T) {
	t.Parallel()
	testredis.EachBackend(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		clock := newFakeClock()
		a, b := newTracker(t, c, "a", clock), newTracker(t, c, "b", clock)
		var wg sync.WaitGroup
		for w := range 8 {
			tr := []*Tracker{a, b}[w%2]
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 250 {
					name := fmt.Sprintf("chat.%d", i%3)
					m := fmt.Sprintf(`{"user_id":%d}`, (i+w)%4)
					if err := tr.Add(ctx, name, m, true); err != nil {
						t.Error(err)
						return
					}
					if i%7 == 0 {
						tr.Refresh(ctx)
					}
					if err := tr.Remove(ctx, name, m, true); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if ks := keyspace(t, c); len(ks) != 0 {
			t.Fatalf("keys left after churn: %q", ks)
		}
		for _, tr := range []*Tracker{a, b} {
			if names := tr.heldNames(); len(names) != 0 || tr.Stats().Members != 0 {
				t.Fatalf("tracker still holds %q, stats %+v", names, tr.Stats())
			}
		}
	})
}

func TestRemoveUnknown(t *testing.T) {
	t.Parallel()
	a, err := New(Options{Client: redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), NodeID: "a"})
	must(t, err)
	if err := a.Remove(context.Background(), "chat.1", alice, true); err != ErrNotHeld {
		t.Fatalf("Remove of a member never added = %v, want ErrNotHeld", err)
	}
}

func TestNewChecksOptions(t *testing.T) {
	t.Parallel()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no client", Options{NodeID: "a"}, "no Redis client"},
		{"no node", Options{Client: c}, `node id ""`},
		{"newline in node", Options{Client: c, NodeID: "a\nb"}, "no newline"},
		{"ttl too long", Options{Client: c, NodeID: "a", TTL: time.Minute}, "between 0 and 45s"},
		{"ttl negative", Options{Client: c, NodeID: "a", TTL: -time.Second}, "between 0 and 45s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestRunStopsWithContext(t *testing.T) {
	t.Parallel()
	testredis.EachBackend(t, func(t *testing.T, c *redis.Client) {
		tr, err := New(Options{Client: c, NodeID: "a", TTL: 300 * time.Millisecond})
		must(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			tr.Run(ctx)
		}()
		must(t, tr.Add(ctx, "chat.1", alice, false))
		// Without refreshes the entry would be gone after 300 ms.
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) {
			l, err := tr.Members(ctx, "chat.1", 0, false)
			must(t, err)
			if len(l.Members) != 1 {
				t.Fatalf("members = %q while refreshed", strs(l.Members))
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		<-done
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
