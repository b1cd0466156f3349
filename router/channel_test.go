package router

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/services"
)

// TestChannelList checks the block-structured subscription list against a
// plain set through additions and removals that cross block boundaries.
func TestChannelList(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		adds, dels int
	}{
		{"one", 1, 1},
		{"exactly one block", blockSize, blockSize},
		{"block and one", blockSize + 1, 2},
		{"several blocks, half removed", 3*blockSize + 17, (3*blockSize + 17) / 2},
		{"several blocks, all removed", 2*blockSize + 5, 2*blockSize + 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ch := newChannel(nil, "k", "svc.t", false)
			want := map[*subscription]bool{}
			var all []*subscription
			for range tc.adds {
				sub := &subscription{}
				ch.add(sub)
				want[sub] = true
				all = append(all, sub)
			}
			rng := rand.New(rand.NewPCG(1, uint64(tc.adds)))
			rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
			for i, sub := range all[:tc.dels] {
				if left := ch.del(sub); left != tc.adds-i-1 {
					t.Fatalf("del %d: %d left, want %d", i, left, tc.adds-i-1)
				}
				delete(want, sub)
				if ch.del(sub) != len(want) {
					t.Fatal("removing a subscription twice changed the list")
				}
			}
			got := map[*subscription]bool{}
			ch.each(func(sub *subscription) {
				if got[sub] {
					t.Fatal("a subscription is listed twice")
				}
				got[sub] = true
			})
			if len(got) != len(want) || ch.subs.Load().n != len(want) {
				t.Fatalf("%d listed (n=%d), want %d", len(got), ch.subs.Load().n, len(want))
			}
			for sub := range want {
				if !got[sub] {
					t.Fatal("a subscription that was not removed is missing")
				}
			}
			for i, block := range ch.subs.Load().blocks {
				if i < len(ch.subs.Load().blocks)-1 && len(block) != blockSize {
					t.Fatalf("block %d holds %d, want %d", i, len(block), blockSize)
				}
			}
		})
	}
}

// TestSubscribeDoesNotStallFanout holds one channel's fan-out in the middle
// of its subscriber list, then subscribes to that channel and fans out
// another: neither may wait for the first fan-out to finish.
func TestSubscribeDoesNotStallFanout(t *testing.T) {
	t.Parallel()
	bf := newBenchFanout(t, &services.Service{}, 1, nil)
	h := bf.h
	h.up.Store(true)

	// Channel "bench.t": the first subscription tells when the fan-out
	// reached it, the second blocks the fan-out while the test holds its
	// lock (it is still held back, so delivering to it takes the lock).
	big := h.channels[bf.key]
	reached := signalWrites(bf.sessions[0])
	blocker := newSubscription(bf.sessions[0], "bench.t", "bench", &services.Service{}, &fieldSet{})
	big.refs++
	big.add(blocker)
	small := bf.addChannel(t, "bench.small", 1, &services.Service{}, nil)

	blocker.mu.Lock()
	unblock := sync.OnceFunc(blocker.mu.Unlock)
	defer unblock()
	fanned := make(chan struct{})
	go func() {
		defer close(fanned)
		h.fanout(&redis.Message{Channel: big.key, Payload: `{"subscription":"bench.t","data":1}`})
	}()
	<-reached // the fan-out is inside the list and waits on blocker

	joined := make(chan struct{})
	go func() {
		defer close(joined)
		sub := newSubscription(bf.sessions[0], "bench.t", "bench", &services.Service{}, &fieldSet{})
		if _, err := h.join("bench.t", sub, false); err != nil {
			t.Error(err)
		}
	}()
	waitClosed(t, joined, "a subscribe to the channel being fanned out")

	smallDone := make(chan struct{})
	go func() {
		defer close(smallDone)
		h.fanout(&redis.Message{Channel: small.key, Payload: `{"subscription":"bench.small","data":1}`})
	}()
	waitClosed(t, smallDone, "a fan-out on another channel")

	unblock()
	<-fanned
	for _, s := range bf.sessions {
		s.out.close()
		s.out.wait()
	}
}

// waitClosed fails the test when done is not closed within 10 seconds (a
// generous bound: what it waits for takes microseconds unless it is stuck).
func waitClosed(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s is still waiting after 10s", what)
	}
}

// TestNoDeliveryAfterSubscriptionEnds: a fan-out that read the channel's
// list before a subscription left it queues nothing for that subscription
// once it has ended, so no delivery follows the unsubscribe reply.
func TestNoDeliveryAfterSubscriptionEnds(t *testing.T) {
	t.Parallel()
	bf := newBenchFanout(t, &services.Service{}, 1, nil)
	h := bf.h
	ch := h.channels[bf.key]
	reached := signalWrites(bf.sessions[0])
	blocker := newSubscription(bf.sessions[0], "bench.t", "bench", &services.Service{}, &fieldSet{})
	ch.refs++
	ch.add(blocker)

	var mu sync.Mutex
	var got []string
	s := &session{id: "leaving", r: h.r, ctx: context.Background()}
	s.out = newOutbox(1<<20, 1<<30, func(f []byte) error {
		mu.Lock()
		got = append(got, string(f))
		mu.Unlock()
		return nil
	}, func() {}, func(error) {})
	leaving := newSubscription(s, "bench.t", "bench", &services.Service{}, &fieldSet{})
	leaving.live.Store(true)
	leaving.channels = []*channel{ch}
	ch.refs++
	ch.add(leaving)

	blocker.mu.Lock()
	unblock := sync.OnceFunc(blocker.mu.Unlock)
	defer unblock()
	fanned := make(chan struct{})
	go func() {
		defer close(fanned)
		h.fanout(&redis.Message{Channel: bf.key, Payload: `{"subscription":"bench.t","data":1}`})
	}()
	<-reached // the fan-out holds a list with leaving in it

	leaving.end()
	s.reply([]byte("reply"))
	unblock()
	<-fanned
	for _, sess := range append(bf.sessions, s) {
		sess.out.wait() // the writer ends once it has written everything queued
		sess.out.close()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != "reply" {
		t.Fatalf("frames after the subscription ended: %q, want only the reply", got)
	}
}

// TestChannelListInterleaved mixes additions and removals at random and
// compares the list with a plain set after each step.
func TestChannelListInterleaved(t *testing.T) {
	t.Parallel()
	ch := newChannel(nil, "k", "svc.t", false)
	var in []*subscription
	rng := rand.New(rand.NewPCG(7, 11))
	for step := range 3000 {
		if len(in) == 0 || rng.IntN(5) < 3 {
			sub := &subscription{}
			ch.add(sub)
			in = append(in, sub)
		} else {
			i := rng.IntN(len(in))
			ch.del(in[i])
			in[i] = in[len(in)-1]
			in = in[:len(in)-1]
		}
		got := map[*subscription]int{}
		ch.each(func(sub *subscription) { got[sub]++ })
		if len(got) != len(in) || ch.subs.Load().n != len(in) {
			t.Fatalf("step %d: %d listed (n=%d), want %d", step, len(got), ch.subs.Load().n, len(in))
		}
		for _, sub := range in {
			if got[sub] != 1 {
				t.Fatalf("step %d: a subscription is listed %d times", step, got[sub])
			}
		}
	}
}

// signalWrites gives s an outbox that writes nothing and signals on the
// returned channel, without blocking, each time it writes.
func signalWrites(s *session) <-chan struct{} {
	reached := make(chan struct{}, 1)
	s.out = newOutbox(1<<20, 1<<30, func([]byte) error {
		select {
		case reached <- struct{}{}:
		default:
		}
		return nil
	}, func() {}, func(error) {})
	return reached
}
