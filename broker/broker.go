// Package broker owns wsrouter's Redis pub/sub connections: one Redis, or
// (later) a Redis Cluster with one connection per master. It subscribes and
// unsubscribes channels and patterns in the order it is asked to, reads
// every message and hands it to a Handler, runs the delivery probe of each
// connection (SPEC section 6) and reports each shard's readiness. It knows
// nothing of sessions: the router's hub keeps the channel table, the
// reference counts, the hold-back and the fan-out workers.
package broker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// Message is one publication read from Redis. Channel is the channel it
// was published to; Pattern is the pattern it matched when it arrived
// through a pattern subscription, "" otherwise; Payload is its text.
type Message = redis.Message

// ErrPatternsNeedSingleRedis is returned by PSubscribe and PUnsubscribe of
// a broker on a Redis Cluster: sharded pub/sub has no patterns.
var ErrPatternsNeedSingleRedis = errors.New("broker: pattern subscriptions need a single Redis, not a cluster")

// Handler receives what a broker reads. Its methods are called from the
// broker's goroutines: Message and Subscribed from the reader of the shard
// that read them, Up and Down from that shard's connection loop. For one
// shard, every call about one connection comes before that connection's
// Down. None may block for long: Message in particular must hand the
// message on (to a worker queue) and return, or the shard's reader stalls.
type Handler interface {
	// Message is called for every message of a subscribed channel or
	// pattern, in the order the shard's connection delivered them, except
	// the delivery probe's own messages. m is not used by the broker after
	// the call.
	Message(m *Message)
	// Subscribed is called when Redis confirmed the subscribe of a channel
	// (pattern false) or of a pattern (pattern true) that the caller asked
	// for with Subscribe or PSubscribe.
	Subscribed(name string, pattern bool)
	// Up is called when shard's connection is made, its fixed channels are
	// subscribed and its delivery probe passed for the first time.
	Up(shard string)
	// Down is called when shard's connection is lost or could not be
	// made; err says why, and is context.Canceled when the broker is
	// stopping. On a single Redis, every channel and pattern that was
	// subscribed on that connection is forgotten (Redis dropped them with
	// the connection) and every (un)subscribe still queued for it is
	// dropped: after Down, the caller subscribes again what it still
	// needs, once the shard is Up. On a cluster (Sharded), the broker
	// keeps its channels and subscribes them again itself, reporting
	// Resubscribing.
	Down(shard string, err error)
	// Resubscribing is called on a cluster for channels whose subscription
	// was lost (their master went away, or their slot moved) just before
	// the broker subscribes them again on their slot's master: messages
	// published to them since the loss may be missing, until a new
	// Subscribed for each says they are received again.
	Resubscribing(channels []string)
}

// Broker is the Redis pub/sub of one configured Redis (redis or
// redis_alt).
//
// Subscribe, Unsubscribe, PSubscribe and PUnsubscribe queue the command and
// return without waiting for Redis; the commands of one shard are sent in
// the order of the calls, so a caller that calls them under its own lock,
// in the order its table changes, always leaves Redis in its table's
// state. Subscribed tells when Redis confirmed a subscribe. A command
// queued while the shard is down is dropped when its connection is
// (re)made: subscribe only while the shard is Up.
//
// # Patterns
//
// PSubscribe is meant for wildcard subscriptions on a single Redis. Keep a
// table of patterns next to the table of channels, reference-counted the
// same way: PSubscribe on a pattern's first user, PUnsubscribe after its
// last, called under the same lock as the channel (un)subscribes. A
// pattern is a Redis glob over the full channel name, channel prefix
// included (`*`, `?`, `[...]`; a backslash escapes), so escape the prefix
// and every literal part with a backslash before each of `*?[]\`. Redis
// confirms with Subscribed(pattern, true). A message that matches a
// pattern arrives at Message with m.Pattern set to that pattern and
// m.Channel to the channel it was published to; a message that matches a
// subscribed channel and patterns, or several patterns, arrives once for
// each, so route on m.Pattern ("" for a channel subscription) and hash
// workers by m.Channel to keep each channel's order. Messages of channels
// and patterns of one shard come in publish order. On a Redis Cluster,
// PSubscribe and PUnsubscribe return ErrPatternsNeedSingleRedis: a
// service with wildcard subscriptions in cluster mode is a configuration
// error, so this is never reached from a valid configuration.
type Broker interface {
	// Subscribe queues a SUBSCRIBE (SSUBSCRIBE on a cluster) of channel.
	Subscribe(channel string) error
	// Unsubscribe queues its UNSUBSCRIBE (SUNSUBSCRIBE).
	Unsubscribe(channel string) error
	// PSubscribe queues a PSUBSCRIBE of pattern; see Patterns above.
	PSubscribe(pattern string) error
	// PUnsubscribe queues its PUNSUBSCRIBE.
	PUnsubscribe(pattern string) error
	// Publish sends payload to channel (PUBLISH, or SPUBLISH on a cluster).
	Publish(ctx context.Context, channel, payload string) error
	// Sharded reports a Redis Cluster: SSUBSCRIBE and SPUBLISH, channels
	// kept and subscribed again across a lost master (Resubscribing).
	Sharded() bool
	// Client is the command connection pool (a *redis.Client or a
	// *redis.ClusterClient), for scripts and keys of this Redis.
	Client() redis.UniversalClient
	// Ready returns nil when every shard is connected and its delivery
	// probe passes, else why not.
	Ready() error
	// Shards reports each shard's state, in a stable order.
	Shards() []ShardState
	// Run connects every shard and serves until ctx ends, reconnecting
	// with backoff. It calls h and returns when all its goroutines ended.
	Run(ctx context.Context, h Handler)
	// Close closes the connection pools, after Run returned.
	Close() error
}

// ShardState is one shard's readiness.
type ShardState struct {
	Name string // host:port of the node
	Up   bool
	Err  string // why not up; "" when up
}

// Options configure a broker.
type Options struct {
	// URL is the redis://, rediss:// or unix:// URL of a single Redis.
	URL string
	// Cluster is a Redis Cluster, instead of URL.
	Cluster *Cluster
	// ProbeChannel is the channel of the delivery probe (on a cluster,
	// a hash tag is added per master).
	ProbeChannel string
	// Fixed are channels every connection subscribes before it reports Up
	// (the control channel), so that nothing sent to them while a session
	// is open is missed. Their messages go to Handler.Message.
	Fixed []string
	// PingInterval is the period of the delivery probe.
	PingInterval time.Duration
	// PingTimeout bounds the probe, the dial and each command.
	PingTimeout time.Duration
	// Logger receives the broker's lines; nil means slog.Default().
	Logger *slog.Logger
}

// New builds the broker that opts describe. It does not connect until Run.
func New(opts Options) (Broker, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Cluster != nil {
		return newCluster(opts)
	}
	return newSingle(opts)
}
