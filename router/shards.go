package router

import (
	"context"
	"errors"
)

// shardDown is a lost master of a Redis Cluster: the router is not ready
// until it is back (or replaced), but its channels stay in the table: the
// broker subscribes them again and reports Resubscribing, so sessions on
// other masters are not touched.
func (h *hub) shardDown(shard string, err error) {
	wasUp := h.up.Swap(false)
	if errors.Is(err, context.Canceled) { // the router is stopping
		h.r.redisChanged(false)
		return
	}
	if wasUp {
		h.log.Error("redis cluster master lost; resubscribing its channels on the new master", "shard", shard, "err", err)
		h.r.redisChanged(false)
	} else if err != nil {
		h.log.Warn("redis cluster not available; retrying", "shard", shard, "err", err)
	}
}

// Resubscribing is the broker's callback for channels whose subscription
// was lost on a cluster and is being made again: their subscriptions on
// services with history pause until the new subscribe is confirmed and
// then resume from the history; the sessions of the others are closed
// with 1011 (SPEC section 11).
func (h *hub) Resubscribing(keys []string) {
	h.mu.Lock()
	var hit []*channel
	for _, k := range keys {
		if ch := h.channels[k]; ch != nil && ch.isReady && !ch.failed {
			ch.interrupted = true
			hit = append(hit, ch)
		}
	}
	h.mu.Unlock()
	paused, closed := 0, 0
	for _, ch := range hit {
		pauses, n := ch.interrupt()
		h.mu.Lock()
		ch.pauses = append(ch.pauses, pauses...)
		h.mu.Unlock()
		paused += len(pauses)
		closed += n
	}
	if len(hit) > 0 {
		h.log.Warn("redis cluster: channels interrupted; history subscriptions resume from the history, other sessions close",
			"channels", len(hit), "paused", paused, "closed", closed)
	}
}

// shardsChanged refreshes the per-master series of wsrouter_redis_up when some
// Redis is a cluster; with single Redis servers only the series without
// labels (redisChanged) exists.
func (r *Router) shardsChanged() {
	sharded := false
	for _, h := range r.hubs {
		sharded = sharded || h.broker.Sharded()
	}
	if !sharded {
		return
	}
	up := map[string]bool{}
	for _, h := range r.hubs {
		states := h.broker.Shards()
		if len(states) == 0 {
			up[h.label] = false // no slot map yet
		}
		for _, st := range states {
			up[st.Name] = st.Up
		}
	}
	r.metrics.RedisUp.SetShards(up)
}
