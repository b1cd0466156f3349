package router

import (
	"slices"
	"sync"
	"sync/atomic"
)

// blockSize is how many subscriptions one block of a channel's list holds.
// A subscribe or unsubscribe copies at most two blocks and the table of
// blocks, so a change to a channel of n subscriptions costs about
// blockSize + n/blockSize pointer copies, not n.
const blockSize = 256

// channel is one Redis channel the router is subscribed to and the
// subscriptions that receive its messages. Its ready channel closes when
// Redis confirmed the SUBSCRIBE (or the connection was lost, then failed is
// set first).
//
// The subscription list is immutable once published: fan-out reads it with
// one atomic load and never waits, and a subscribe or unsubscribe builds a
// new list under mu, which only writers take. The hub's lock is never held
// while mu is.
type channel struct {
	hub     *hub
	key     string // Redis channel name, with the prefix; for a pattern, the Redis glob
	name    string // subscription name, "service.topic"
	pattern bool   // a wildcard subscription's PSUBSCRIBE
	ready   chan struct{}
	isReady bool // guarded by hub.mu
	failed  bool // guarded by hub.mu; read after ready is closed
	refs    int  // guarded by hub.mu: subscriptions joined and not yet removed
	// interrupted is set (guarded by hub.mu) while the channel is being
	// subscribed again on a new cluster master; pauses are the
	// subscriptions to resume when that is confirmed.
	interrupted bool
	pauses      []pausedSub

	mu    sync.Mutex // serialises changes to subs
	subs  atomic.Pointer[subList]
	index map[*subscription]int // guarded by mu: position in subs
}

// subList is a snapshot of a channel's subscriptions in blocks of
// blockSize; every block but the last is full. Neither the table nor a
// block is written after the list is published.
type subList struct {
	blocks [][]*subscription
	n      int
}

func newChannel(h *hub, key, name string, pattern bool) *channel {
	ch := &channel{hub: h, key: key, name: name, pattern: pattern, ready: make(chan struct{}), index: map[*subscription]int{}}
	ch.subs.Store(&subList{})
	return ch
}

// each calls f for every subscription of the channel at the time of the
// call, without blocking subscribes and unsubscribes.
func (c *channel) each(f func(*subscription)) {
	for _, block := range c.subs.Load().blocks {
		for _, sub := range block {
			f(sub)
		}
	}
}

// add appends sub to the list.
func (c *channel) add(sub *subscription) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.subs.Load()
	next := &subList{n: old.n + 1}
	if old.n%blockSize == 0 {
		next.blocks = append(slices.Clip(old.blocks), []*subscription{sub})
	} else {
		next.blocks = slices.Clone(old.blocks)
		last := len(next.blocks) - 1
		next.blocks[last] = append(slices.Clone(old.blocks[last]), sub)
	}
	c.index[sub] = old.n
	c.subs.Store(next)
}

// del removes sub, moving the last subscription into its place, and
// reports how many subscriptions are left.
func (c *channel) del(sub *subscription) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.subs.Load()
	i, ok := c.index[sub]
	if !ok {
		return old.n
	}
	delete(c.index, sub)
	last := old.n - 1
	lb, lo := last/blockSize, last%blockSize
	moved := old.blocks[lb][lo]
	next := &subList{blocks: slices.Clone(old.blocks), n: last}
	if lo == 0 {
		next.blocks = next.blocks[:lb]
	} else {
		next.blocks[lb] = slices.Clone(old.blocks[lb][:lo]) // a copy, so the old block's slot does not keep sub alive
	}
	if i != last {
		b := i / blockSize
		if b != lb { // block lb is already a fresh copy
			next.blocks[b] = slices.Clone(next.blocks[b])
		}
		next.blocks[b][i%blockSize] = moved
		c.index[moved] = i
	}
	c.subs.Store(next)
	return last
}
