package throttle

import (
	"sync"
	"time"
)

// DefaultMaxKeys is the number of keys a Throttle made by New keeps.
const DefaultMaxKeys = 1024

// Throttle throttles one subscription's messages per key. It is safe for
// concurrent use: Offer may be called from a fan-out goroutine while timers
// fire on others. Create it with New or NewLimited.
//
// It keeps at most maxKeys keys: a new key past that makes the key that
// sent least recently be forgotten, its pending message, if any, going out
// at once, and a forgotten key's next message goes out at once, as if new.
type Throttle[T any] struct {
	clock   Clock
	send    func(T)
	maxKeys int

	mu      sync.Mutex
	idle    sync.Cond // signalled when sending drops to zero after Stop
	keys    map[string]*entry[T]
	newest  *entry[T] // the key that sent most recently; the recency list runs to oldest
	oldest  *entry[T]
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
	key    string
	last   time.Time
	period time.Duration
	msg    T
	has    bool   // msg is pending
	timer  Timer  // armed while msg is pending
	gen    uint64 // generation of timer; a firing with another is stale

	newer, older *entry[T] // neighbours in the recency list
}

// New returns a Throttle that keeps at most DefaultMaxKeys keys and hands
// messages to send. send is called with no internal lock held, possibly
// from a timer goroutine; it may call Offer and Pending but must not call
// Stop, which waits for it. A nil clock means RealClock.
func New[T any](clock Clock, send func(T)) *Throttle[T] {
	return NewLimited(clock, DefaultMaxKeys, send)
}

// NewLimited is New keeping at most maxKeys keys; maxKeys <= 0 means
// DefaultMaxKeys.
func NewLimited[T any](clock Clock, maxKeys int, send func(T)) *Throttle[T] {
	if clock == nil {
		clock = RealClock
	}
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	t := &Throttle[T]{clock: clock, send: send, maxKeys: maxKeys}
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
		if e := t.keys[key]; e != nil && e.has {
			t.cancel(e)
			discarded = true
		}
		t.sending++
		t.mu.Unlock()
		t.deliver(msg)
		return discarded
	}

	now := t.clock.Now()
	e := t.keys[key]
	if e == nil {
		flushed, ok := t.makeRoom()
		e = &entry[T]{key: key, last: now, period: period}
		t.put(e)
		t.armSweep(now, now.Add(period))
		t.sending++
		t.mu.Unlock()
		if ok {
			t.deliver(flushed)
		}
		t.deliver(msg)
		return false
	}
	if now.Sub(e.last) >= period {
		if e.has {
			t.cancel(e)
			discarded = true
		}
		e.last = now
		e.period = period
		t.touch(e)
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
		t.arm(e, e.last.Add(period).Sub(now))
	} else if period != e.period {
		e.timer.Stop()
		t.arm(e, e.last.Add(period).Sub(now))
	}
	e.period = period
	t.mu.Unlock()
	return discarded
}

// makeRoom forgets the key that sent least recently when maxKeys are kept,
// and returns its pending message, counted in t.sending, to be delivered
// at once. t.mu must be held.
func (t *Throttle[T]) makeRoom() (flushed T, ok bool) {
	if len(t.keys) < t.maxKeys || t.oldest == nil {
		return flushed, false
	}
	e := t.oldest
	if e.has {
		flushed, ok = e.msg, true
		t.cancel(e)
		t.sending++
	}
	t.remove(e)
	return flushed, ok
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
		t.newest, t.oldest = nil, nil
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

// Keys returns how many keys the Throttle keeps, at most its maxKeys.
func (t *Throttle[T]) Keys() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.keys)
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
	e := t.keys[key]
	if e == nil || !e.has || e.gen != gen {
		t.mu.Unlock()
		return
	}
	now := t.clock.Now()
	msg := e.msg
	t.cancel(e)
	e.last = now
	t.touch(e)
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
func (t *Throttle[T]) arm(e *entry[T], d time.Duration) {
	t.seq++
	gen := t.seq
	e.gen = gen
	key := e.key
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

// put stores e as the newest key, making the map on first use. t.mu must
// be held.
func (t *Throttle[T]) put(e *entry[T]) {
	if t.keys == nil {
		t.keys = make(map[string]*entry[T])
	}
	t.keys[e.key] = e
	t.link(e)
}

// remove forgets e, which has nothing pending. t.mu must be held.
func (t *Throttle[T]) remove(e *entry[T]) {
	delete(t.keys, e.key)
	t.unlink(e)
}

// touch makes e the key that sent most recently. t.mu must be held.
func (t *Throttle[T]) touch(e *entry[T]) {
	if t.newest != e {
		t.unlink(e)
		t.link(e)
	}
}

// link puts e at the newest end of the recency list.
func (t *Throttle[T]) link(e *entry[T]) {
	e.newer, e.older = nil, t.newest
	if t.newest != nil {
		t.newest.newer = e
	}
	t.newest = e
	if t.oldest == nil {
		t.oldest = e
	}
}

// unlink takes e out of the recency list.
func (t *Throttle[T]) unlink(e *entry[T]) {
	if e.newer != nil {
		e.newer.older = e.older
	} else {
		t.newest = e.older
	}
	if e.older != nil {
		e.older.newer = e.newer
	} else {
		t.oldest = e.newer
	}
	e.newer, e.older = nil, nil
}
