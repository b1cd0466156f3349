package throttle

import (
	"sync"
	"time"
)

// Throttle throttles one subscription's messages per key. It is safe for
// concurrent use: Offer may be called from a fan-out goroutine while timers
// fire on others. Create it with New.
type Throttle[T any] struct {
	clock Clock
	send  func(T)

	mu      sync.Mutex
	idle    sync.Cond // signalled when sending drops to zero after Stop
	keys    map[string]entry[T]
	pending int    // keys with a message waiting
	sending int    // calls of send in progress
	seq     uint64 // source of timer generations
	stopped bool

	sweep    Timer // shared sweep timer, nil when none is armed
	sweepAt  time.Time
	sweepGen uint64
}

// entry is the state of one key: when it last sent, and the message
// waiting for its period to elapse, if any.
type entry[T any] struct {
	last   time.Time
	period time.Duration
	msg    T
	has    bool   // msg is pending
	timer  Timer  // armed while msg is pending
	gen    uint64 // generation of timer; a firing with another is stale
}

// New returns a Throttle that hands messages to send. send is called with
// no internal lock held, possibly from a timer goroutine; it may call
// Offer and Pending but must not call Stop, which waits for it. A nil
// clock means RealClock.
func New[T any](clock Clock, send func(T)) *Throttle[T] {
	if clock == nil {
		clock = RealClock
	}
	t := &Throttle[T]{clock: clock, send: send}
	t.idle.L = &t.mu
	return t
}

// Offer sends msg now, or keeps it as the pending message of key to be sent
// when the period since the last send of key has elapsed, replacing an
// older pending one. A period <= 0 sends at once and discards any message
// still pending for key, which msg supersedes. Offers after Stop are
// ignored. It reports whether an older pending message was discarded, so
// callers can count what the throttle dropped.
func (t *Throttle[T]) Offer(key string, period time.Duration, msg T) (discarded bool) {
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		return false
	}
	if period <= 0 {
		if e, ok := t.keys[key]; ok && e.has {
			t.cancel(&e)
			t.keys[key] = e
			discarded = true
		}
		t.sending++
		t.mu.Unlock()
		t.deliver(msg)
		return discarded
	}

	now := t.clock.Now()
	e, ok := t.keys[key]
	if !ok || now.Sub(e.last) >= period {
		if e.has {
			t.cancel(&e)
			discarded = true
		}
		e.last = now
		e.period = period
		t.put(key, e)
		t.armSweep(now, now.Add(period))
		t.sending++
		t.mu.Unlock()
		t.deliver(msg)
		return discarded
	}

	discarded = e.has
	e.msg = msg
	if !e.has {
		e.has = true
		t.pending++
		t.arm(key, &e, e.last.Add(period).Sub(now))
	} else if period != e.period {
		e.timer.Stop()
		t.arm(key, &e, e.last.Add(period).Sub(now))
	}
	e.period = period
	t.keys[key] = e
	t.mu.Unlock()
	return discarded
}

// Stop cancels every pending message and timer; later Offers are ignored.
// It waits for calls of send in progress, so send is never called after
// Stop returns. Stop is idempotent.
func (t *Throttle[T]) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		t.stopped = true
		for _, e := range t.keys {
			if e.has {
				e.timer.Stop()
			}
		}
		t.keys = nil
		t.pending = 0
		if t.sweep != nil {
			t.sweep.Stop()
			t.sweep = nil
		}
	}
	for t.sending > 0 {
		t.idle.Wait()
	}
}

// Pending returns how many keys have a message waiting.
func (t *Throttle[T]) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pending
}

// fire sends the pending message of key when its timer of generation gen
// is still the current one.
func (t *Throttle[T]) fire(key string, gen uint64) {
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		return
	}
	e, ok := t.keys[key]
	if !ok || !e.has || e.gen != gen {
		t.mu.Unlock()
		return
	}
	now := t.clock.Now()
	msg := e.msg
	t.cancel(&e)
	e.last = now
	t.keys[key] = e
	t.armSweep(now, now.Add(e.period))
	t.sending++
	t.mu.Unlock()
	t.deliver(msg)
}

// deliver calls send for a message counted in t.sending. It must be called
// without t.mu held.
func (t *Throttle[T]) deliver(msg T) {
	defer func() {
		t.mu.Lock()
		t.sending--
		if t.sending == 0 && t.stopped {
			t.idle.Broadcast()
		}
		t.mu.Unlock()
	}()
	t.send(msg)
}

// arm starts the timer that sends e's pending message after d.
// t.mu must be held.
func (t *Throttle[T]) arm(key string, e *entry[T], d time.Duration) {
	t.seq++
	gen := t.seq
	e.gen = gen
	e.timer = t.clock.AfterFunc(d, func() { t.fire(key, gen) })
}

// cancel drops e's pending message and stops its timer. A timer that
// already fired finds a new generation and does nothing. t.mu must be held.
func (t *Throttle[T]) cancel(e *entry[T]) {
	if !e.has {
		return
	}
	e.timer.Stop()
	var zero T
	e.msg = zero
	e.has = false
	e.timer = nil
	t.seq++
	e.gen = t.seq
	t.pending--
}

// put stores e, making the map on first use. t.mu must be held.
func (t *Throttle[T]) put(key string, e entry[T]) {
	if t.keys == nil {
		t.keys = make(map[string]entry[T])
	}
	t.keys[key] = e
}
