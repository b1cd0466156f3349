package broker

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// single is the broker of one Redis: one pub/sub connection for every
// channel and pattern.
type single struct {
	client *redis.Client // commands: the probe's PUBLISH, INFO, scripts
	subs   *redis.Client // the pub/sub connection, with a large read buffer
	shard  *shard
}

func newSingle(opts Options) (*single, error) {
	ro, err := redis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("broker: url: %w", err)
	}
	ro.DialTimeout = opts.PingTimeout
	ro.ReadTimeout = opts.PingTimeout
	ro.WriteTimeout = opts.PingTimeout
	ro.MaxRetries = 1
	ro.PoolSize = 4
	ro.DisableIdentity = true
	subOpts := *ro
	subOpts.ReadBufferSize = pubsubReadBuffer
	subOpts.PoolSize = 1
	b := &single{client: redis.NewClient(ro), subs: redis.NewClient(&subOpts)}
	b.shard = newShard(ro.Addr, b.client, b.subs, opts, opts.Logger, shardHooks{
		probe: func() string { return opts.ProbeChannel },
		fixed: func(uint64) []string { return opts.Fixed },
	})
	return b, nil
}

func (b *single) Subscribe(channel string) error {
	b.shard.queue(command{op: opSubscribe, name: channel})
	return nil
}

func (b *single) Unsubscribe(channel string) error {
	b.shard.queue(command{op: opUnsubscribe, name: channel})
	return nil
}

func (b *single) PSubscribe(pattern string) error {
	b.shard.queue(command{op: opPSubscribe, name: pattern})
	return nil
}

func (b *single) PUnsubscribe(pattern string) error {
	b.shard.queue(command{op: opPUnsubscribe, name: pattern})
	return nil
}

func (b *single) Publish(ctx context.Context, channel, payload string) error {
	if err := b.client.Publish(ctx, channel, payload).Err(); err != nil {
		return fmt.Errorf("broker: publish: %w", err)
	}
	return nil
}

func (b *single) Client() redis.UniversalClient { return b.client }

func (b *single) Sharded() bool { return false }

func (b *single) Ready() error {
	st := b.shard.state()
	if st.Up {
		return nil
	}
	return errors.New(st.Err)
}

func (b *single) Shards() []ShardState { return []ShardState{b.shard.state()} }

func (b *single) Run(ctx context.Context, h Handler) { b.shard.loop(ctx, h) }

func (b *single) Close() error {
	return errors.Join(b.client.Close(), b.subs.Close())
}
