package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster to connect to.
type Cluster struct {
	// Addrs are HOST:PORT of some of its nodes; the rest are discovered.
	Addrs []string
	// Username and Password authenticate; "" for none.
	Username, Password string
}

// clusterBroker shards pub/sub over a Redis Cluster: one connection per
// master, each channel SSUBSCRIBEd on the master that owns its slot. When
// a master is lost or a slot moves, it reloads the slot map and subscribes
// the channels again on their new owner, telling the handler first
// (Handler.Resubscribing).
type clusterBroker struct {
	opts   Options
	client *redis.ClusterClient
	log    *slog.Logger
	kick   chan struct{} // something changed: reload the slot map now

	// mu guards what follows. The handler is never called with mu held; a
	// shard's own lock may be taken under it (to queue a command), never
	// the other way round.
	mu     sync.Mutex
	h      Handler
	owner  []*shard          // by slot; nil until the first map is loaded
	shards map[string]*shard // the running shards, one per master, by address
	runs   map[*shard]context.CancelFunc
	where  map[string]placed // every channel subscribed, and where
	mapErr string
	wg     sync.WaitGroup // the shards' loops
}

// placed is where a channel was subscribed: on which shard, over which of
// its connections. A channel whose connection is no longer the shard's
// current one, or whose shard no longer owns its slot, must be subscribed
// again.
type placed struct {
	s     *shard
	gen   uint64
	fixed bool // a fixed channel: not reported to the handler
}

// Sharded pub/sub timing: how often the slot map is reloaded without a
// reason, and the backoff of a reload that failed.
const (
	refreshEvery     = 5 * time.Second
	refreshBackoff   = 100 * time.Millisecond
	refreshBackoffMx = 2 * time.Second
)

func newCluster(opts Options) (*clusterBroker, error) {
	c := opts.Cluster
	if len(c.Addrs) == 0 {
		return nil, errors.New("broker: cluster: no addrs")
	}
	co := &redis.ClusterOptions{
		Addrs:           c.Addrs,
		Username:        c.Username,
		Password:        c.Password,
		DialTimeout:     opts.PingTimeout,
		ReadTimeout:     opts.PingTimeout,
		WriteTimeout:    opts.PingTimeout,
		MaxRetries:      3,
		PoolSize:        4,
		DisableIdentity: true,

		ClusterStateReloadInterval: clientStateReload,
	}
	b := &clusterBroker{
		opts:   opts,
		client: redis.NewClusterClient(co),
		log:    opts.Logger,
		kick:   make(chan struct{}, 1),
		shards: map[string]*shard{},
		runs:   map[*shard]context.CancelFunc{},
		where:  map[string]placed{},
		mapErr: "cluster slot map not loaded yet",
	}
	return b, nil
}

func (b *clusterBroker) Subscribe(channel string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.owner == nil {
		return errors.New("broker: cluster slot map not loaded yet")
	}
	s := b.owner[Slot(channel)]
	b.where[channel] = placed{s: s, gen: s.queue(command{op: opSubscribe, name: channel})}
	return nil
}

func (b *clusterBroker) Unsubscribe(channel string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.where[channel]
	if !ok || p.fixed {
		return nil
	}
	delete(b.where, channel)
	p.s.queue(command{op: opUnsubscribe, name: channel})
	return nil
}

func (b *clusterBroker) PSubscribe(string) error   { return ErrPatternsNeedSingleRedis }
func (b *clusterBroker) PUnsubscribe(string) error { return ErrPatternsNeedSingleRedis }

func (b *clusterBroker) Publish(ctx context.Context, channel, payload string) error {
	if err := b.client.SPublish(ctx, channel, payload).Err(); err != nil {
		return fmt.Errorf("broker: spublish: %w", err)
	}
	return nil
}

func (b *clusterBroker) Client() redis.UniversalClient { return b.client }

func (b *clusterBroker) Sharded() bool { return true }

func (b *clusterBroker) Ready() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.owner == nil {
		return errors.New(b.mapErr)
	}
	for _, st := range b.statesLocked() {
		if !st.Up {
			return fmt.Errorf("shard %s: %s", st.Name, st.Err)
		}
	}
	return nil
}

func (b *clusterBroker) Shards() []ShardState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.statesLocked()
}

func (b *clusterBroker) statesLocked() []ShardState {
	out := make([]ShardState, 0, len(b.shards))
	for _, s := range b.shards {
		out = append(out, s.state())
	}
	slices.SortFunc(out, func(x, y ShardState) int {
		if x.Name < y.Name {
			return -1
		}
		if x.Name > y.Name {
			return 1
		}
		return 0
	})
	return out
}

// Close closes the command client; each shard's connections were closed
// when its loop ended, before Run returned.
func (b *clusterBroker) Close() error {
	return b.client.Close()
}

// Run loads the slot map, runs a shard per master, and reloads the map
// whenever a shard reports a sign of change (and every refreshEvery), until
// ctx ends.
func (b *clusterBroker) Run(ctx context.Context, h Handler) {
	b.mu.Lock()
	b.h = h
	b.mu.Unlock()
	defer b.stopAll()
	backoff := refreshBackoff
	for ctx.Err() == nil {
		wait := refreshEvery
		if err := b.reload(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			b.mu.Lock()
			first := b.owner == nil
			b.mapErr = err.Error()
			b.mu.Unlock()
			if first {
				h.Down("cluster", err)
			} else {
				b.log.Warn("redis cluster: slot map not reloaded", "err", err)
			}
			wait = backoff
			backoff = min(2*backoff, refreshBackoffMx)
		} else {
			backoff = refreshBackoff
			b.resubscribe()
		}
		select {
		case <-ctx.Done():
		case <-b.kick:
		case <-time.After(wait):
		}
	}
}

// poke asks Run to reload the slot map now.
func (b *clusterBroker) poke() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// stopAll ends every shard's loop and waits for them.
func (b *clusterBroker) stopAll() {
	b.mu.Lock()
	for _, cancel := range b.runs {
		cancel()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// reload reads the slot map (CLUSTER SHARDS, Redis 7) and makes the running shards match its
// masters: a new master gets a shard, a node that is no longer a master
// loses its shard (its channels are subscribed again by resubscribe).
func (b *clusterBroker) reload(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, b.opts.PingTimeout)
	defer cancel()
	shards, err := b.client.ClusterShards(rctx).Result()
	if err != nil {
		return fmt.Errorf("cluster shards: %w", err)
	}
	owners := make([]string, hashSlots)
	for _, sh := range shards {
		master, online := "", false // an online master over one marked failed
		for _, n := range sh.Nodes {
			if n.Role == "master" && (master == "" || !online && n.Health == "online") {
				master, online = net.JoinHostPort(n.IP, strconv.FormatInt(n.Port, 10)), n.Health == "online"
			}
		}
		if master == "" {
			continue
		}
		for _, r := range sh.Slots {
			for i := max(r.Start, 0); i <= min(r.End, hashSlots-1); i++ {
				owners[i] = master
			}
		}
	}
	if i := slices.Index(owners, ""); i >= 0 {
		return fmt.Errorf("cluster shards: slot %d has no master", i)
	}
	if err := b.checkMasters(rctx, owners); err != nil {
		return err
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	masters := map[string]bool{}
	for _, a := range owners {
		masters[a] = true
	}
	for addr, s := range b.shards {
		if !masters[addr] {
			b.log.Info("redis cluster: node is no longer a master", "shard", addr)
			b.runs[s]()
			delete(b.runs, s)
			delete(b.shards, addr)
		}
	}
	owner := make([]*shard, hashSlots)
	var added []string
	for i, a := range owners {
		s := b.shards[a]
		if s == nil {
			s = b.startShard(ctx, a)
			added = append(added, a)
		}
		owner[i] = s
	}
	if len(added) > 0 {
		b.log.Info("redis cluster: new masters", "shards", added, "masters", len(b.shards))
		b.client.ReloadState(ctx) // the command client follows at once
	}
	b.owner = owner
	b.mapErr = ""
	return nil
}

// checkMasters asks each node the map names as a master for its ROLE. Just
// after a failover, the node that answered CLUSTER SHARDS may not know yet:
// a channel subscribed on the old master, now a replica, would miss what is
// published until its replication catches up, and a later move would not
// see that gap. A stale map is an error, and the reload is retried.
func (b *clusterBroker) checkMasters(ctx context.Context, owners []string) error {
	seen := map[string]bool{}
	for _, addr := range owners {
		if seen[addr] {
			continue
		}
		seen[addr] = true
		b.mu.Lock()
		s := b.shards[addr]
		b.mu.Unlock()
		var c *redis.Client
		if s != nil {
			c = s.cmd
		} else {
			co := b.client.Options()
			tmp := redis.NewClient(&redis.Options{Addr: addr, Username: co.Username, Password: co.Password,
				TLSConfig: co.TLSConfig, DialTimeout: b.opts.PingTimeout, ReadTimeout: b.opts.PingTimeout,
				MaxRetries: -1, PoolSize: 1, DisableIdentity: true})
			defer tmp.Close()
			c = tmp
		}
		role, err := c.Do(ctx, "ROLE").Slice()
		if err != nil {
			return fmt.Errorf("cluster shards: role of %s: %w", addr, err)
		}
		if len(role) == 0 || role[0] != "master" {
			return fmt.Errorf("cluster shards: the slot map names %s a master, but its role is %v (failover in progress)", addr, role)
		}
	}
	return nil
}

// startShard starts the shard of the master at addr; b.mu is held.
func (b *clusterBroker) startShard(ctx context.Context, addr string) *shard {
	co := b.client.Options()
	ro := &redis.Options{
		Addr:            addr,
		Username:        co.Username,
		Password:        co.Password,
		DialTimeout:     b.opts.PingTimeout,
		ReadTimeout:     b.opts.PingTimeout,
		WriteTimeout:    b.opts.PingTimeout,
		MaxRetries:      1,
		PoolSize:        2,
		DisableIdentity: true,
		TLSConfig:       co.TLSConfig,
	}
	subOpts := *ro
	subOpts.ReadBufferSize = pubsubReadBuffer
	subOpts.PoolSize = 1
	var s *shard
	s = newShard(addr, redis.NewClient(ro), redis.NewClient(&subOpts), b.opts, b.log.With("shard", addr), shardHooks{
		sharded: true,
		probe:   func() string { return b.probeFor(s) },
		fixed:   func(gen uint64) []string { return b.fixedFor(s, gen) },
		lost:    func(channel string, slot int) { b.lost(s, channel, slot) },
	})
	sctx, cancel := context.WithCancel(ctx)
	b.shards[addr] = s
	b.runs[s] = cancel
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer func() { _ = s.sub.Close(); _ = s.cmd.Close() }()
		s.loop(sctx, shardHandler{b: b, s: s})
	}()
	return s
}

// probeFor returns a probe channel of s's own slots: the configured name
// with a hash tag that lands on one of them.
func (b *clusterBroker) probeFor(s *shard) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	owner := b.owner
	tag := tagFor(func(slot int) bool { return owner == nil || owner[slot] == s })
	return b.opts.ProbeChannel + tag
}

// fixedFor returns the fixed channels that s owns, for its connection gen,
// and records them as subscribed there.
func (b *clusterBroker) fixedFor(s *shard, gen uint64) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, f := range b.opts.Fixed {
		if b.owner != nil && b.owner[Slot(f)] == s {
			b.where[f] = placed{s: s, gen: gen, fixed: true}
			out = append(out, f)
		}
	}
	return out
}

// lost is a shard's report that Redis dropped channel (or, channel "",
// refused a subscribe for slot with MOVED): its slot moved. The channel is
// marked for a new subscribe and the map is reloaded.
func (b *clusterBroker) lost(s *shard, channel string, slot int) {
	b.mu.Lock()
	for ch, p := range b.where {
		if p.s == s && (ch == channel || channel == "" && Slot(ch) == slot) {
			p.gen = 0 // no connection has number 0
			b.where[ch] = p
		}
	}
	b.mu.Unlock()
	b.poke()
}

// resubscribe subscribes again every channel whose subscription was lost
// (its connection ended, or Redis dropped it) or whose slot has a new
// master, on the slot's master once that is up. The handler is told of
// the channels before their subscribes are queued, so it sees their new
// confirmations after.
func (b *clusterBroker) resubscribe() {
	type move struct {
		channel string
		from    placed
	}
	b.mu.Lock()
	h := b.h
	var moves []move
	for ch, p := range b.where {
		to := b.owner[Slot(ch)]
		if p.s == to && p.gen == to.connection() && to.up.Load() {
			continue
		}
		if !to.up.Load() {
			continue // when it is up, its Up reloads the map and comes back here
		}
		moves = append(moves, move{ch, p})
	}
	b.mu.Unlock()
	if len(moves) == 0 {
		return
	}
	var told []string
	for _, m := range moves {
		if !m.from.fixed {
			told = append(told, m.channel)
		}
	}
	if len(told) > 0 {
		b.log.Info("redis cluster: subscribing channels again on their master", "channels", len(told))
		h.Resubscribing(told)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range moves {
		if b.where[m.channel] != m.from {
			continue // unsubscribed or moved meanwhile
		}
		to := b.owner[Slot(m.channel)]
		if m.from.s != to && b.shards[m.from.s.name] == m.from.s && m.from.s.up.Load() {
			m.from.s.queue(command{op: opUnsubscribe, name: m.channel})
		}
		b.where[m.channel] = placed{s: to, gen: to.queue(command{op: opSubscribe, name: m.channel}), fixed: m.from.fixed}
	}
}

// shardHandler passes a shard's calls on to the broker's handler, and
// reloads the slot map when a shard comes up or goes down.
type shardHandler struct {
	b *clusterBroker
	s *shard
}

func (sh shardHandler) Message(m *Message)                   { sh.b.h.Message(m) }
func (sh shardHandler) Subscribed(name string, pattern bool) { sh.b.h.Subscribed(name, pattern) }
func (sh shardHandler) Resubscribing([]string)               {}

func (sh shardHandler) Up(shard string) {
	sh.b.poke()
	sh.b.h.Up(shard)
}

func (sh shardHandler) Down(shard string, err error) {
	sh.b.mu.Lock()
	retired := sh.b.shards[shard] != sh.s
	sh.b.mu.Unlock()
	if retired && errors.Is(err, context.Canceled) {
		return // no longer a master: not part of readiness
	}
	if !errors.Is(err, context.Canceled) {
		sh.s.log.Info("redis cluster: master connection lost", "err", err)
	}
	sh.b.poke()
	sh.b.h.Down(shard, err)
}
