package status

import "time"

// Sample is the router's state at one instant, as the status page charts
// it. Counters are totals since the process started; rates are computed
// from two samples when the page asks.
type Sample struct {
	// At is when the sample was taken.
	At time.Time
	// Connections is the number of open WebSocket connections.
	Connections float64
	// Deliveries is wsrouter_deliveries_total.
	Deliveries float64
	// Subscriptions maps a service to its live subscriptions.
	Subscriptions map[string]float64
	// Dropped maps a drop reason to wsrouter_dropped_total for it.
	Dropped map[string]float64
	// Redis maps a Redis connection or shard to 1 (up) or 0 (down).
	Redis map[string]float64
}

// ring keeps the newest samples, up to its capacity, oldest first. It is
// not safe for concurrent use; Status guards it.
type ring struct {
	buf   []Sample
	start int // index of the oldest sample
	n     int
}

func newRing(capacity int) *ring {
	return &ring{buf: make([]Sample, max(capacity, 1))}
}

// add appends s, overwriting the oldest sample when the ring is full.
func (r *ring) add(s Sample) {
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = s
		r.n++
		return
	}
	r.buf[r.start] = s
	r.start = (r.start + 1) % len(r.buf)
}

// len returns the number of samples held.
func (r *ring) len() int { return r.n }

// at returns the i-th sample, 0 being the oldest held.
func (r *ring) at(i int) Sample { return r.buf[(r.start+i)%len(r.buf)] }

// since returns the samples taken at or after t, oldest first, in a new
// slice.
func (r *ring) since(t time.Time) []Sample {
	out := make([]Sample, 0, r.n)
	for i := range r.n {
		if s := r.at(i); !s.At.Before(t) {
			out = append(out, s)
		}
	}
	return out
}
