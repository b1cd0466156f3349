package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/testcluster"
)

// testLogger logs to the test's output with -v, else nowhere.
func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(tWriter{t}, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// runCluster starts a broker on rc and stops it when the test ends.
func runCluster(t *testing.T, rc *testcluster.Cluster, fixed ...string) (Broker, *recorder) {
	t.Helper()
	b, err := New(Options{
		Cluster:      &Cluster{Addrs: rc.Addrs[:1]},
		ProbeChannel: "probe." + t.Name(),
		Fixed:        fixed,
		PingInterval: 200 * time.Millisecond,
		PingTimeout:  time.Second,
		Logger:       testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.Run(ctx, rec) }()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = b.Close()
	})
	rec.wait(t, "every master up", func() bool { return rec.ups >= 3 && b.Ready() == nil })
	return b, rec
}

// TestClusterDelivers: channels spread over every master are subscribed on
// the master of their slot, and every SPUBLISH to them, and to a fixed
// channel, is delivered once.
func TestClusterDelivers(t *testing.T) {
	t.Parallel()
	rc := testcluster.Start(t)
	b, rec := runCluster(t, rc, "ctl")
	if !b.Sharded() {
		t.Fatal("a cluster broker says it is not sharded")
	}
	if st := b.Shards(); len(st) != 3 {
		t.Fatalf("shards %+v, want 3 masters", st)
	}
	if err := b.PSubscribe("a*"); !errors.Is(err, ErrPatternsNeedSingleRedis) {
		t.Fatalf("PSubscribe on a cluster: %v", err)
	}

	const n = 300
	channels := make([]string, n)
	owners := map[string]bool{}
	masters := rc.Masters(t)
	rdb := rc.Client(t)
	ctx := context.Background()
	for i := range channels {
		channels[i] = fmt.Sprintf("books.c%d", i)
		if err := b.Subscribe(channels[i]); err != nil {
			t.Fatal(err)
		}
		c, err := rdb.MasterForKey(ctx, channels[i])
		if err != nil {
			t.Fatal(err)
		}
		owners[c.Options().Addr] = true
	}
	if len(owners) != len(masters) {
		t.Fatalf("channels cover %d masters, the cluster has %d", len(owners), len(masters))
	}
	rec.wait(t, "every confirmation", func() bool { return len(rec.subscribed) == n })
	for _, ch := range append(channels, "ctl") {
		if err := b.Publish(ctx, ch, "to "+ch); err != nil {
			t.Fatal(err)
		}
	}
	rec.wait(t, "every message", func() bool { return len(rec.messages) >= n+1 })
	time.Sleep(100 * time.Millisecond) // room for a duplicate to show up
	rec.mu.Lock()
	defer rec.mu.Unlock()
	seen := map[string]int{}
	for _, m := range rec.messages {
		seen[m.Channel]++
		if m.Payload != "to "+m.Channel {
			t.Errorf("message on %s: %q", m.Channel, m.Payload)
		}
	}
	for _, ch := range append(channels, "ctl") {
		if seen[ch] != 1 {
			t.Errorf("%s delivered %d times, want once", ch, seen[ch])
		}
	}
}

// TestClusterMasterChange: when a master hands over to its replica (CLUSTER
// FAILOVER) or dies (kill -9, then automatic promotion), the broker
// reports exactly that master's channels as Resubscribing, subscribes them
// on the new master, and every later SPUBLISH is delivered once.
func TestClusterMasterChange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		kill bool
	}{
		{"failover", false},
		{"kill", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc := testcluster.Start(t)
			b, rec := runCluster(t, rc)
			rdb := rc.Client(t)
			ctx := context.Background()
			const n = 200
			channels := make([]string, n)
			for i := range channels {
				channels[i] = fmt.Sprintf("books.m%d", i)
				if err := b.Subscribe(channels[i]); err != nil {
					t.Fatal(err)
				}
			}
			rec.wait(t, "every confirmation", func() bool { return len(rec.subscribed) == n })

			masters := rc.Masters(t)
			first, err := rdb.MasterForKey(ctx, channels[0])
			if err != nil {
				t.Fatal(err)
			}
			victim := first.Options().Addr
			onVictim := map[string]bool{}
			for _, ch := range channels {
				if c, err := rdb.MasterForKey(ctx, ch); err == nil && c.Options().Addr == victim {
					onVictim[ch] = true
				}
			}
			if tt.kill {
				rc.Kill(t, victim)
			} else if err := rc.Node(t, masters[victim]).ClusterFailover(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			rec.wait(t, "the victim's channels resubscribed", func() bool {
				return len(rec.resubscribing) >= len(onVictim) && len(rec.subscribed) >= n+len(onVictim)
			})
			if err := b.Ready(); err != nil {
				t.Fatalf("not ready after the change: %v", err)
			}
			rec.mu.Lock()
			for _, ch := range rec.resubscribing {
				if !onVictim[ch] {
					t.Errorf("%s was resubscribed though its master did not change", ch)
				}
			}
			rec.messages = nil
			rec.mu.Unlock()

			for _, ch := range channels {
				// The publishing client may not know the new master yet:
				// go-redis reloads its slot map after a failed command.
				deadline := time.Now().Add(10 * time.Second)
				for err := b.Publish(ctx, ch, "after"); err != nil; err = b.Publish(ctx, ch, "after") {
					if time.Now().After(deadline) {
						t.Fatal(err)
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
			rec.wait(t, "every message", func() bool { return len(rec.messages) >= n })
			time.Sleep(100 * time.Millisecond)
			rec.mu.Lock()
			defer rec.mu.Unlock()
			seen := map[string]int{}
			for _, m := range rec.messages {
				seen[m.Channel]++
			}
			for _, ch := range channels {
				if seen[ch] != 1 {
					t.Errorf("%s delivered %d times after the change, want once", ch, seen[ch])
				}
			}
		})
	}
}
