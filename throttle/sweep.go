package throttle

import "time"

// The sweep releases the state of keys that have nothing pending and whose
// period has elapsed. One timer serves the whole Throttle: it is armed for
// the earliest time some key may expire, and each run scans the map. To
// keep scans rare when many keys expire one after another, a run re-arms
// no sooner than a quarter of the shortest remaining period, so a key's
// state outlives its period by at most that much.

// armSweep makes sure a sweep runs no later than at. t.mu must be held.
func (t *Throttle[T]) armSweep(now, at time.Time) {
	if t.sweep != nil {
		if !at.Before(t.sweepAt) {
			return
		}
		t.sweep.Stop()
	}
	t.seq++
	gen := t.seq
	t.sweepGen = gen
	t.sweepAt = at
	t.sweep = t.clock.AfterFunc(at.Sub(now), func() { t.runSweep(gen) })
}

// runSweep releases expired keys and re-arms for the ones left.
func (t *Throttle[T]) runSweep(gen uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped || gen != t.sweepGen {
		return
	}
	t.sweep = nil
	now := t.clock.Now()
	var next time.Time
	var shortest time.Duration
	for _, e := range t.keys {
		if e.has {
			// Its timer re-arms the sweep after sending.
			continue
		}
		expiry := e.last.Add(e.period)
		if !now.Before(expiry) {
			t.remove(e)
			continue
		}
		if next.IsZero() || expiry.Before(next) {
			next = expiry
		}
		if shortest == 0 || e.period < shortest {
			shortest = e.period
		}
	}
	if len(t.keys) == 0 {
		t.keys = nil // let the emptied map's storage go
		t.newest, t.oldest = nil, nil
		return
	}
	if next.IsZero() {
		return
	}
	if floor := now.Add(shortest / 4); next.Before(floor) {
		next = floor
	}
	t.armSweep(now, next)
}
