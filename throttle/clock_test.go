package throttle

import (
	"sync"
	"time"
)

// manualClock is a Clock whose time moves only on Advance, which runs due
// timers synchronously in time order.
type manualClock struct {
	mu     sync.Mutex
	now    time.Time
	seq    int
	timers map[*manualTimer]struct{}
}

type manualTimer struct {
	c   *manualClock
	at  time.Time
	seq int
	f   func()
}

func newManualClock() *manualClock {
	return &manualClock{
		now:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		timers: make(map[*manualTimer]struct{}),
	}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	tm := &manualTimer{c: c, at: c.now.Add(d), seq: c.seq, f: f}
	c.timers[tm] = struct{}{}
	return tm
}

func (tm *manualTimer) Stop() bool {
	tm.c.mu.Lock()
	defer tm.c.mu.Unlock()
	if _, ok := tm.c.timers[tm]; !ok {
		return false
	}
	delete(tm.c.timers, tm)
	return true
}

// Advance moves the clock forward by d, firing every timer due by then in
// order of due time (then of arming), each at its own due time.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	for {
		var due *manualTimer
		for tm := range c.timers {
			if tm.at.After(target) {
				continue
			}
			if due == nil || tm.at.Before(due.at) || (tm.at.Equal(due.at) && tm.seq < due.seq) {
				due = tm
			}
		}
		if due == nil {
			break
		}
		delete(c.timers, due)
		if due.at.After(c.now) {
			c.now = due.at
		}
		c.mu.Unlock()
		due.f()
		c.mu.Lock()
	}
	c.now = target
	c.mu.Unlock()
}

// Armed returns how many timers are waiting.
func (c *manualClock) Armed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}
