package router

import (
	"sync"

	"github.com/redis/go-redis/v9"
)

// channel is one Redis channel the router is subscribed to and the
// subscriptions that receive its messages. Its ready channel closes when
// Redis confirmed the SUBSCRIBE (or the connection was lost, then failed is
// set first).
type channel struct {
	hub     *hub
	key     string        // Redis channel name, with the prefix
	name    string        // subscription name, "service.topic"
	ps      *redis.PubSub // the connection that subscribed it
	ready   chan struct{}
	isReady bool // guarded by hub.mu
	failed  bool // guarded by hub.mu; read after ready is closed

	mu    sync.RWMutex
	subs  []*subscription
	index map[*subscription]int
}

func (c *channel) add(sub *subscription) {
	c.mu.Lock()
	c.index[sub] = len(c.subs)
	c.subs = append(c.subs, sub)
	c.mu.Unlock()
}

// del removes sub and reports how many subscriptions are left.
func (c *channel) del(sub *subscription) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.index[sub]
	if !ok {
		return len(c.subs)
	}
	last := len(c.subs) - 1
	c.subs[i] = c.subs[last]
	c.index[c.subs[i]] = i
	c.subs[last] = nil
	c.subs = c.subs[:last]
	delete(c.index, sub)
	return len(c.subs)
}

func (c *channel) size() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.subs)
}
