package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/broker"
)

// Node records: each node keeps a record of itself in Redis under
// prefix + "_wsrouter.node." + id, with a time to live of three refresh
// periods, and its id in the set prefix + "_wsrouter.nodes". A node that
// stops refreshing (killed, cut off) drops out when its record expires;
// info forgets the ids whose record is gone.

// nodeSetKey is the set of node ids.
func nodeSetKey(prefix string) string { return prefix + "_wsrouter.nodes" }

// nodeKey is the record of one node.
func nodeKey(prefix, id string) string { return prefix + "_wsrouter.node." + id }

// NodeStats is what a node counts of itself.
type NodeStats struct {
	// Connections is the number of open WebSocket connections.
	Connections int
	// Subscriptions is the number of subscriptions of those connections.
	Subscriptions int
}

// NodeInfo is one node as info lists it.
type NodeInfo struct {
	ID            string `json:"id"`
	Connections   int    `json:"connections"`
	Subscriptions int    `json:"subscriptions"`
	UptimeS       int64  `json:"uptime_s"`
	Version       string `json:"version"`
}

// record is what a node stores: uptime is derived from its start time when
// read, so it does not lag by a refresh period.
type record struct {
	ID            string `json:"id"`
	Connections   int    `json:"connections"`
	Subscriptions int    `json:"subscriptions"`
	StartedMs     int64  `json:"started_ms"`
	Version       string `json:"version"`
}

// Announcer keeps this node's record in Redis fresh. Build it with
// NewAnnouncer and Run it.
type Announcer struct {
	rdb      redis.UniversalClient
	prefix   string
	id       string
	version  string
	started  time.Time
	interval time.Duration
	stats    func() NodeStats
	log      *slog.Logger
}

// AnnouncerOptions configure an Announcer.
type AnnouncerOptions struct {
	// Redis is the deployment's Redis. Required.
	Redis redis.UniversalClient
	// ChannelPrefix is redis.channel_prefix; records live under it.
	ChannelPrefix string
	// ID names the node. Required.
	ID string
	// Version is the node's version.
	Version string
	// Started is when the node started.
	Started time.Time
	// Interval is the refresh period; the record lives three of them.
	Interval time.Duration
	// Stats counts the node's connections and subscriptions.
	Stats func() NodeStats
	// Logger receives the log lines; nil means slog.Default().
	Logger *slog.Logger
}

// NewAnnouncer builds an Announcer.
func NewAnnouncer(o AnnouncerOptions) *Announcer {
	a := &Announcer{rdb: o.Redis, prefix: o.ChannelPrefix, id: o.ID, version: o.Version, started: o.Started,
		interval: o.Interval, stats: o.Stats, log: o.Logger}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.stats == nil {
		a.stats = func() NodeStats { return NodeStats{} }
	}
	return a
}

// Run refreshes the record every interval until ctx ends, then removes
// it, so that info stops listing a node that shut down.
func (a *Announcer) Run(ctx context.Context) {
	t := time.NewTicker(a.interval)
	defer t.Stop()
	failing := false
	for {
		err := a.refresh(ctx)
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			a.log.Warn("api: cannot refresh this node's record in redis; retrying", "err", err)
			failing = true
		case err == nil && failing:
			a.log.Info("api: node record refreshed again")
			failing = false
		}
		select {
		case <-ctx.Done():
			a.remove()
			return
		case <-t.C:
		}
	}
}

// refresh writes the record with its time to live.
func (a *Announcer) refresh(ctx context.Context) error {
	st := a.stats()
	b, err := json.Marshal(record{ID: a.id, Connections: st.Connections, Subscriptions: st.Subscriptions,
		StartedMs: a.started.UnixMilli(), Version: a.version})
	if err != nil {
		return fmt.Errorf("api: encode node record: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	_, err = a.pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, nodeKey(a.prefix, a.id), b, 3*a.interval)
		p.SAdd(ctx, nodeSetKey(a.prefix), a.id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("api: node record: %w", err)
	}
	return nil
}

// pipelined runs fn's commands in a MULTI on a single Redis. On a Redis
// Cluster the record and the set of ids live in different slots, which a
// MULTI refuses, so they are only pipelined: a record without its id, or
// an id without its record, lasts until the next refresh, and Nodes skips
// and forgets such ids.
func (a *Announcer) pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error) {
	if broker.IsCluster(a.rdb) {
		return a.rdb.Pipelined(ctx, fn)
	}
	return a.rdb.TxPipelined(ctx, fn)
}

// remove deletes the record at shutdown.
func (a *Announcer) remove() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _ = a.pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, nodeKey(a.prefix, a.id))
		p.SRem(ctx, nodeSetKey(a.prefix), a.id)
		return nil
	})
}

// Nodes lists the live nodes, sorted by id, and forgets the ids whose
// record expired.
func Nodes(ctx context.Context, rdb redis.UniversalClient, prefix string, now time.Time) ([]NodeInfo, error) {
	ids, err := rdb.SMembers(ctx, nodeSetKey(prefix)).Result()
	if err != nil {
		return nil, fmt.Errorf("api: node list: %w", err)
	}
	nodes := []NodeInfo{}
	if len(ids) == 0 {
		return nodes, nil
	}
	slices.Sort(ids)
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = nodeKey(prefix, id)
	}
	// One GET per record, pipelined: on a Redis Cluster the records live
	// in different slots, which MGET refuses.
	gets := make([]*redis.StringCmd, len(keys))
	_, err = rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			gets[i] = p.Get(ctx, k)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("api: node records: %w", err)
	}
	vals := make([]any, len(gets))
	for i, g := range gets {
		if v, err := g.Result(); err == nil {
			vals[i] = v
		}
	}
	var gone []any
	for i, v := range vals {
		s, ok := v.(string)
		var r record
		if !ok || json.Unmarshal([]byte(s), &r) != nil {
			gone = append(gone, ids[i])
			continue
		}
		nodes = append(nodes, NodeInfo{ID: ids[i], Connections: r.Connections, Subscriptions: r.Subscriptions,
			UptimeS: max(0, now.UnixMilli()-r.StartedMs) / 1000, Version: r.Version})
	}
	if len(gone) > 0 {
		// A record written between MGET and here re-adds its id at the
		// next refresh.
		_ = rdb.SRem(ctx, nodeSetKey(prefix), gone...).Err()
	}
	return nodes, nil
}

// infoAnswer is the answer to info.
type infoAnswer struct {
	Status string     `json:"status"`
	Nodes  []NodeInfo `json:"nodes"`
}

func (s *Server) info(c *call) (any, error) {
	if err := s.needRedis(); err != nil {
		return nil, err
	}
	nodes, err := Nodes(c.ctx, s.opts.Redis, c.st.cfg.Redis.ChannelPrefix, time.Now())
	if err != nil {
		return nil, unavailable(err)
	}
	return infoAnswer{Status: "ok", Nodes: nodes}, nil
}
