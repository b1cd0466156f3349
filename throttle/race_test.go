package throttle

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// With the real clock and tiny periods, timers fire while Offers and Stop
// run; send must never be called once Stop has returned.
func TestNoSendAfterStopRealClock(t *testing.T) {
	t.Parallel()
	periods := []time.Duration{0, time.Microsecond, 20 * time.Microsecond, 100 * time.Microsecond}
	var late, total atomic.Int64
	for round := range 40 {
		var stopped atomic.Bool
		var calls atomic.Int64
		th := New(RealClock, func(int) {
			if stopped.Load() {
				late.Add(1)
			}
			calls.Add(1)
		})
		var wg sync.WaitGroup
		for g := range 3 {
			wg.Go(func() {
				for i := range 300 {
					key := strconv.Itoa((g + i) % 4)
					th.Offer(key, periods[(round+g+i)%len(periods)], i)
				}
			})
		}
		// Stop somewhere in the middle of the Offers.
		deadline := time.Now().Add(5 * time.Second)
		for calls.Load() < int64(10+round) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Microsecond)
		}
		th.Stop()
		stopped.Store(true)
		wg.Wait()
		if n := th.Pending(); n != 0 {
			t.Fatalf("round %d: Pending() = %d after Stop; want 0", round, n)
		}
		total.Add(calls.Load())
	}
	// Give timers that were cancelled too late a chance to run; the
	// periods are at most 100µs.
	time.Sleep(20 * time.Millisecond)
	if n := late.Load(); n != 0 {
		t.Fatalf("send called %d times after Stop returned", n)
	}
	if total.Load() == 0 {
		t.Fatal("no message was sent; the test did not exercise send")
	}
}
