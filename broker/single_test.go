package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/testredis"
)

// recorder is a Handler that keeps every call, for tests.
type recorder struct {
	mu            sync.Mutex
	messages      []Message
	subscribed    []string // "channel" or "pattern:" + pattern
	ups, downs    int
	lastDown      error
	resubscribing []string
	changed       chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) note() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) Message(m *Message) {
	r.mu.Lock()
	r.messages = append(r.messages, *m)
	r.mu.Unlock()
	r.note()
}

func (r *recorder) Subscribed(name string, pattern bool) {
	r.mu.Lock()
	if pattern {
		name = "pattern:" + name
	}
	r.subscribed = append(r.subscribed, name)
	r.mu.Unlock()
	r.note()
}

func (r *recorder) Up(string) {
	r.mu.Lock()
	r.ups++
	r.mu.Unlock()
	r.note()
}

func (r *recorder) Down(_ string, err error) {
	r.mu.Lock()
	r.downs++
	r.lastDown = err
	r.mu.Unlock()
	r.note()
}

func (r *recorder) Resubscribing(channels []string) {
	r.mu.Lock()
	r.resubscribing = append(r.resubscribing, channels...)
	r.mu.Unlock()
	r.note()
}

// wait polls cond (under the recorder's lock) until it holds or 30s pass
// (a failover of a test cluster takes a few seconds).
func (r *recorder) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// runSingle starts a broker on rs and stops it when the test ends.
func runSingle(t *testing.T, rs *testredis.Server, fixed ...string) (Broker, *recorder) {
	t.Helper()
	b, err := New(Options{
		URL:          rs.URL(),
		ProbeChannel: "probe." + t.Name(),
		Fixed:        fixed,
		PingInterval: 100 * time.Millisecond,
		PingTimeout:  time.Second,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
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
	rec.wait(t, "up", func() bool { return rec.ups == 1 })
	return b, rec
}

// TestSingleDelivers: channels, patterns and fixed channels are confirmed
// and delivered in publish order, with the pattern named on pattern
// messages; an unsubscribed channel is no longer delivered.
func TestSingleDelivers(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	if !rs.Real {
		t.Skip("patterns need a real redis-server")
	}
	b, rec := runSingle(t, rs, "ctl")
	if err := b.Ready(); err != nil {
		t.Fatalf("ready: %v", err)
	}
	if err := b.Subscribe("a.1"); err != nil {
		t.Fatal(err)
	}
	if err := b.PSubscribe(`a.\*.*`); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, "confirmations", func() bool { return len(rec.subscribed) == 2 })
	if got := fmt.Sprint(rec.subscribed); got != `[a.1 pattern:a.\*.*]` {
		t.Fatalf("confirmed %s", got)
	}
	ctx := context.Background()
	for _, c := range []string{"a.1", "a.*.x", "ctl", "a.2"} {
		if err := b.Publish(ctx, c, "to "+c); err != nil {
			t.Fatal(err)
		}
	}
	rec.wait(t, "three messages", func() bool { return len(rec.messages) == 3 })
	want := []Message{
		{Channel: "a.1", Payload: "to a.1"},
		{Channel: "a.*.x", Pattern: `a.\*.*`, Payload: "to a.*.x"},
		{Channel: "ctl", Payload: "to ctl"},
	}
	for i, w := range want {
		g := rec.messages[i]
		if g.Channel != w.Channel || g.Pattern != w.Pattern || g.Payload != w.Payload {
			t.Errorf("message %d: got %+v, want %+v", i, g, w)
		}
	}

	if err := b.Unsubscribe("a.1"); err != nil {
		t.Fatal(err)
	}
	if err := b.PUnsubscribe(`a.\*.*`); err != nil {
		t.Fatal(err)
	}
	rdb := rs.Client(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		subs, err := rdb.PubSubNumSub(ctx, "a.1").Result()
		if err != nil {
			t.Fatal(err)
		}
		pats, err := rdb.PubSubNumPat(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		if subs["a.1"] == 0 && pats == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still subscribed: %v channels, %d patterns", subs, pats)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSingleDownAndUp: a lost Redis is reported Down once with its cause,
// Ready says why, and the broker is Up again once Redis is back.
func TestSingleDownAndUp(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	if !rs.Real {
		t.Skip("restarting Redis needs a real redis-server")
	}
	b, rec := runSingle(t, rs)
	if err := b.Subscribe("x"); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, "confirmation", func() bool { return len(rec.subscribed) == 1 })
	rs.Restart(t)
	rec.wait(t, "down", func() bool { return rec.downs >= 1 })
	rec.wait(t, "up again", func() bool { return rec.ups == 2 })
	if err := b.Ready(); err != nil {
		t.Fatalf("ready after restart: %v", err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.lastDown == nil || errors.Is(rec.lastDown, context.Canceled) {
		t.Fatalf("down with %v, want the connection's error", rec.lastDown)
	}
	if st := b.Shards(); len(st) != 1 || st[0].Name != rs.Addr || !st[0].Up {
		t.Fatalf("shards %+v", st)
	}
}

// TestSingleNotReadyWithoutRedis: with nothing listening, Ready says the
// broker is not connected and Down is called with the dial error.
func TestSingleNotReadyWithoutRedis(t *testing.T) {
	t.Parallel()
	b, err := New(Options{URL: "redis://127.0.0.1:1/0", ProbeChannel: "p", PingInterval: time.Second, PingTimeout: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Ready(); err == nil || err.Error() != "not connected yet" {
		t.Fatalf("ready before run: %v", err)
	}
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.Run(ctx, rec) }()
	rec.wait(t, "down", func() bool { return rec.downs >= 1 })
	cancel()
	<-done
	if err := b.Ready(); err == nil {
		t.Fatal("ready without Redis")
	}
}
