package throttle

import (
	"runtime"
	"strconv"
	"testing"
	"time"
)

func TestKeyStateReleased(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		keys   int
		offers int // per key, all at the same instant
		sends  int // expected in total
	}{
		{name: "many keys offered once", keys: 100_000, offers: 1, sends: 100_000},
		{name: "keys with pending messages", keys: 1000, offers: 3, sends: 2000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := newManualClock()
			sends := 0
			th := NewLimited(clock, tc.keys, func(int) { sends++ })
			keys := make([]string, tc.keys)
			for i := range keys {
				keys[i] = strconv.Itoa(i)
			}
			for n := range tc.offers {
				for _, k := range keys {
					th.Offer(k, time.Second, n)
				}
			}
			if n := keyCount(th); n != tc.keys {
				t.Fatalf("%d keys kept within the period; want %d", n, tc.keys)
			}
			clock.Advance(time.Second)
			clock.Advance(time.Second)
			if n := keyCount(th); n != 0 {
				t.Fatalf("%d keys kept after the periods; want 0", n)
			}
			th.mu.Lock()
			released := th.keys == nil
			th.mu.Unlock()
			if !released {
				t.Fatal("emptied key map was not released")
			}
			if n := clock.Pending(); n != 0 {
				t.Fatalf("%d timers armed; want 0", n)
			}
			if sends != tc.sends {
				t.Fatalf("%d messages sent; want %d", sends, tc.sends)
			}
		})
	}
}

// Keys whose periods end at different times are released soon after
// their own period, not only when the last one ends.
func TestSweepStaggeredKeys(t *testing.T) {
	t.Parallel()
	clock := newManualClock()
	th := New(clock, func(string) {})
	th.Offer("a", time.Second, "a")
	clock.Advance(500 * ms)
	th.Offer("b", time.Second, "b")
	clock.Advance(500 * ms) // a's period ends
	if n := keyCount(th); n != 1 {
		t.Fatalf("%d keys kept after a's period; want 1", n)
	}
	clock.Advance(500*ms + time.Second/4) // b's period plus at most a quarter
	if n := keyCount(th); n != 0 {
		t.Fatalf("%d keys kept after b's period; want 0", n)
	}
	if n := clock.Pending(); n != 0 {
		t.Fatalf("%d timers armed; want 0", n)
	}
}

// A shorter period arriving while the sweep waits for a longer one brings
// the sweep forward.
func TestSweepBroughtForward(t *testing.T) {
	t.Parallel()
	clock := newManualClock()
	th := New(clock, func(string) {})
	th.Offer("long", time.Hour, "x")
	th.Offer("short", time.Second, "y")
	clock.Advance(time.Second)
	th.mu.Lock()
	_, short := th.keys["short"]
	_, long := th.keys["long"]
	th.mu.Unlock()
	if short || !long {
		t.Fatalf("after one second: short kept %v, long kept %v; want false, true", short, long)
	}
}

// TestKeyStateHeapCeiling: distinct throttle keys without end, each with a
// message pending for an hour, hold no more heap than DefaultMaxKeys keys
// need. Not parallel, so that no other test's allocations count.
func TestKeyStateHeapCeiling(t *testing.T) {
	const keys = 100_000
	const ceiling = 2 << 20 // DefaultMaxKeys keys with a pending message of 64 bytes take about 0.5 MiB
	clock := newManualClock()
	sent := 0
	th := New(clock, func([]byte) { sent++ })
	before := heapInUse()
	for i := range keys {
		key := "key-" + strconv.Itoa(i)
		th.Offer(key, time.Hour, make([]byte, 64)) // sent at once
		th.Offer(key, time.Hour, make([]byte, 64)) // pending for an hour
	}
	grown := int64(heapInUse()) - int64(before)
	t.Logf("%d keys, each with a message pending: heap grew by %.2f MiB; %d keys kept, %d timers armed",
		keys, float64(grown)/(1<<20), keyCount(th), clock.Pending())
	if grown > ceiling {
		t.Errorf("heap grew by %d bytes, want at most %d", grown, ceiling)
	}
	if n := keyCount(th); n != DefaultMaxKeys {
		t.Errorf("%d keys kept, want %d", n, DefaultMaxKeys)
	}
	if n := th.Pending(); n != DefaultMaxKeys {
		t.Errorf("%d messages pending, want %d", n, DefaultMaxKeys)
	}
	// Every message went out or waits: a forgotten key's pending one went
	// out when it was forgotten.
	if want := 2*keys - DefaultMaxKeys; sent != want {
		t.Errorf("%d messages sent, want %d", sent, want)
	}
	th.Stop()
	runtime.KeepAlive(th)
}

// heapInUse returns the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
