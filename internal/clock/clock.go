// Package clock is the time source of timing logic (throttle, renewal,
// heartbeat, keepalive): Real in production, and Manual in tests, which
// moves only when the test says so.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time and calls functions later.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has elapsed, unless
	// the returned Timer is stopped first.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending call armed by Clock.AfterFunc.
type Timer interface {
	// Stop prevents the call if it has not started; it reports whether it
	// did, like time.Timer.Stop.
	Stop() bool
}

// Real is the Clock backed by the time package.
var Real Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// Manual is a Clock whose time moves only on Advance, which runs the calls
// that fall due on the caller's goroutine, in time order, each at its own
// due time. It is safe for concurrent use.
type Manual struct {
	mu     sync.Mutex
	now    time.Time
	seq    int
	timers map[*manualTimer]struct{}
}

type manualTimer struct {
	c   *Manual
	at  time.Time
	seq int
	f   func()
}

// NewManual returns a Manual clock that reads start.
func NewManual(start time.Time) *Manual {
	return &Manual{now: start, timers: map[*manualTimer]struct{}{}}
}

// Now returns the clock's time.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc arms a call of f at Now()+d.
func (c *Manual) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	tm := &manualTimer{c: c, at: c.now.Add(d), seq: c.seq, f: f}
	c.timers[tm] = struct{}{}
	return tm
}

// Stop disarms the call; it reports whether it was still armed.
func (tm *manualTimer) Stop() bool {
	tm.c.mu.Lock()
	defer tm.c.mu.Unlock()
	if _, ok := tm.c.timers[tm]; !ok {
		return false
	}
	delete(tm.c.timers, tm)
	return true
}

// Pending returns how many calls are armed.
func (c *Manual) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Next returns how long until the earliest armed call falls due; false
// when none is armed.
func (c *Manual) Next() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first *manualTimer
	for tm := range c.timers {
		if first == nil || tm.at.Before(first.at) {
			first = tm
		}
	}
	if first == nil {
		return 0, false
	}
	return first.at.Sub(c.now), true
}

// Advance moves the clock forward by d, making every call due by then in
// order of due time (then of arming), with the clock reading that due
// time. A call armed meanwhile runs too when it falls due within d.
func (c *Manual) Advance(d time.Duration) {
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
