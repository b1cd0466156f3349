package throttle

import (
	"testing"
	"time"
)

// stepClock is a benchmark Clock: time moves only when the benchmark says
// so and timers never fire.
type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }

func (c *stepClock) AfterFunc(time.Duration, func()) Timer { return nopTimer{} }

type nopTimer struct{}

func (nopTimer) Stop() bool { return true }

func BenchmarkOfferNoThrottle(b *testing.B) {
	th := New(&stepClock{}, func([]byte) {})
	msg := []byte(`{"event":"message"}`)
	b.ReportAllocs()
	for b.Loop() {
		th.Offer("", 0, msg)
	}
}

// Every message arrives after its key's period: it goes out at once.
func BenchmarkOfferPeriodElapsed(b *testing.B) {
	clock := &stepClock{now: time.Unix(0, 0)}
	th := New(clock, func([]byte) {})
	msg := []byte(`{"event":"message"}`)
	b.ReportAllocs()
	for b.Loop() {
		clock.now = clock.now.Add(time.Second)
		th.Offer(`"k"`, time.Second, msg)
	}
}

// Every message arrives within the period: it replaces the pending one.
func BenchmarkOfferReplacePending(b *testing.B) {
	clock := &stepClock{now: time.Unix(0, 0)}
	th := New(clock, func([]byte) {})
	msg := []byte(`{"event":"message"}`)
	th.Offer("", time.Second, msg)
	th.Offer("", time.Second, msg)
	b.ReportAllocs()
	for b.Loop() {
		th.Offer("", time.Second, msg)
	}
}
