package presence

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultTTL is how long a holder entry lives without a refresh when
// Options.TTL is zero. A dead node's members leave within TTL plus one
// refresh period (TTL/3) of its last refresh: 40 s by default.
const DefaultTTL = 30 * time.Second

// MaxTTL is the largest TTL that still makes a dead node's members leave
// within 60 s (SPEC section 13).
const MaxTTL = 45 * time.Second

// opTimeout bounds one Redis step of the tracker.
const opTimeout = 5 * time.Second

// Publisher publishes one payload on a Redis channel.
type Publisher func(ctx context.Context, channel string, payload []byte) error

// Options configures a Tracker.
type Options struct {
	// Client runs the scripts. Required.
	Client redis.Scripter
	// Publish sends join and leave events. Nil publishes with Client when
	// it can (a *redis.Client or redis.UniversalClient), else drops them.
	Publish Publisher
	// Prefix is the Redis channel prefix; it also starts every key.
	Prefix string
	// NodeID names this node in its holder entries. Required; no newline.
	NodeID string
	// TTL is how long an entry lives without a refresh. Zero means
	// DefaultTTL. Refreshes run every TTL/3.
	TTL time.Duration
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Logger gets failed Redis steps. Nil means slog.Default().
	Logger *slog.Logger
	// Ready reports whether Redis is reachable; Run skips its passes
	// while it reports false. Nil means always.
	Ready func() bool
	// OnMembers is told each change of the number of members this node
	// holds in Redis. Nil means nobody.
	OnMembers func(delta int)
	// OnSent is told of each event published, by kind. Nil means nobody.
	OnSent func(kind string)
}

// Tracker records this node's members in Redis and publishes join and
// leave events. Its methods are safe for concurrent use.
type Tracker struct {
	client  redis.Scripter
	publish Publisher
	prefix  string
	node    string
	ttl     time.Duration
	now     func() time.Time
	log     *slog.Logger
	ready   func() bool
	onHeld  func(delta int)
	onSent  func(kind string)

	mu    sync.Mutex
	names map[string]*room // guarded by mu

	stored atomic.Int64  // members this node holds in Redis
	seq    atomic.Uint64 // events this node started to publish
	joins  atomic.Uint64 // join events published
	leaves atomic.Uint64 // leave events published
}

// room is this node's view of one name.
type room struct {
	events  bool              // publish join and leave events
	members map[string]*entry // by member JSON
}

// entry is one member of a name on this node. refs counts the Add calls
// not yet matched by Remove (guarded by Tracker.mu); the Redis state is
// changed only under the entry's own lock, so one member's steps reach
// Redis in order while other members and names proceed.
type entry struct {
	refs int // guarded by Tracker.mu

	mu       sync.Mutex
	sessions int  // guarded by mu
	held     bool // guarded by mu: this node's holder is in Redis
}

// New returns a Tracker.
func New(opts Options) (*Tracker, error) {
	if opts.Client == nil {
		return nil, errors.New("presence: no Redis client")
	}
	if opts.NodeID == "" || strings.ContainsRune(opts.NodeID, '\n') {
		return nil, fmt.Errorf("presence: node id %q must be non-empty and have no newline", opts.NodeID)
	}
	if opts.TTL < 0 || opts.TTL > MaxTTL {
		return nil, fmt.Errorf("presence: ttl %s must be between 0 and %s", opts.TTL, MaxTTL)
	}
	t := &Tracker{
		client:  opts.Client,
		publish: opts.Publish,
		prefix:  opts.Prefix,
		node:    opts.NodeID,
		ttl:     opts.TTL,
		now:     opts.Now,
		log:     opts.Logger,
		ready:   opts.Ready,
		onHeld:  opts.OnMembers,
		onSent:  opts.OnSent,
		names:   map[string]*room{},
	}
	if t.ttl == 0 {
		t.ttl = DefaultTTL
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.log == nil {
		t.log = slog.Default()
	}
	if t.ready == nil {
		t.ready = func() bool { return true }
	}
	if t.onHeld == nil {
		t.onHeld = func(int) {}
	}
	if t.onSent == nil {
		t.onSent = func(string) {}
	}
	if t.publish == nil {
		if p, ok := opts.Client.(interface {
			Publish(ctx context.Context, channel string, message any) *redis.IntCmd
		}); ok {
			t.publish = func(ctx context.Context, channel string, payload []byte) error {
				return p.Publish(ctx, channel, payload).Err()
			}
		}
	}
	return t, nil
}

// TTL is the lifetime of an entry without a refresh.
func (t *Tracker) TTL() time.Duration { return t.ttl }

// Add records one subscription of member to name. The member joins, and
// with events a join is published, when this is its first subscription on
// any node. A Redis failure is returned; the member is then recorded by the
// next refresh.
func (t *Tracker) Add(ctx context.Context, name, member string, events bool) error {
	t.mu.Lock()
	r := t.names[name]
	if r == nil {
		r = &room{members: map[string]*entry{}}
		t.names[name] = r
	}
	r.events = events
	e := r.members[member]
	if e == nil {
		e = &entry{}
		r.members[member] = e
	}
	e.refs++
	t.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	e.sessions++
	if e.held {
		return nil
	}
	return t.hold(ctx, name, member, e, events)
}

// Remove ends one subscription of member to name. The member leaves, and
// with events a leave is published, when this was its last subscription on
// any node.
func (t *Tracker) Remove(ctx context.Context, name, member string, events bool) error {
	t.mu.Lock()
	r := t.names[name]
	var e *entry
	if r != nil {
		e = r.members[member]
	}
	if e == nil {
		t.mu.Unlock()
		return ErrNotHeld
	}
	r.events = events
	t.mu.Unlock()

	e.mu.Lock()
	var err error
	e.sessions--
	if e.sessions == 0 && e.held {
		err = t.release(ctx, name, member, e, events)
	}
	e.mu.Unlock()

	t.mu.Lock()
	e.refs--
	if e.refs == 0 {
		delete(r.members, member)
		if len(r.members) == 0 {
			delete(t.names, name)
		}
	}
	t.mu.Unlock()
	return err
}

// hold adds this node's holder of member, with e.mu held.
func (t *Tracker) hold(ctx context.Context, name, member string, e *entry, events bool) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	expiry, keyTTL := t.expiry()
	joined, err := addScript.Run(ctx, t.client, keys(t.prefix, name),
		holder(t.node, member), member, expiry, keyTTL).Int()
	if err != nil {
		return fmt.Errorf("presence: add to %q: %w", name, err)
	}
	e.held = true
	t.stored.Add(1)
	t.onHeld(1)
	if joined == 1 && events {
		t.send(ctx, Join, name, member)
	}
	return nil
}

// release removes this node's holder of member, with e.mu held. The entry
// counts as released even when Redis fails: the holder then expires.
func (t *Tracker) release(ctx context.Context, name, member string, e *entry, events bool) error {
	e.held = false
	t.stored.Add(-1)
	t.onHeld(-1)
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	left, err := removeScript.Run(ctx, t.client, keys(t.prefix, name), holder(t.node, member), member).Int()
	if err != nil {
		return fmt.Errorf("presence: remove from %q: %w", name, err)
	}
	if left == 1 && events {
		t.send(ctx, Leave, name, member)
	}
	return nil
}

// send publishes one event; a failure is logged, as the event is a
// notification and the member list stays right.
func (t *Tracker) send(ctx context.Context, kind, name, member string) {
	if t.publish == nil {
		return
	}
	payload := encodeEvent(kind, name, member, t.node, t.seq.Add(1))
	if err := t.publish(ctx, t.prefix+name, payload); err != nil {
		t.log.Warn("presence: publish event", "event", kind, "subscription", name, "error", err)
		return
	}
	if kind == Join {
		t.joins.Add(1)
	} else {
		t.leaves.Add(1)
	}
	t.onSent(kind)
}

// Seq is the number of events this node has started to publish. An event
// of this node whose Seq is at most a value read before a subscription
// began was published before it: a subscriber can tell events about the
// time before it subscribed from those after, even when they arrive late.
func (t *Tracker) Seq() uint64 { return t.seq.Load() }

// expiry returns the expiry of an entry written now and the lifetime of a
// name's keys, both in milliseconds.
func (t *Tracker) expiry() (expiry, keyTTL int64) {
	return t.now().Add(t.ttl).UnixMilli(), (2 * t.ttl).Milliseconds()
}

// Stats is what a tracker has done, for metrics.
type Stats struct {
	// Members is the number of members this node holds in Redis, summed
	// over names.
	Members int64
	// Joins and Leaves count the events this node published.
	Joins, Leaves uint64
}

// Stats returns the tracker's counts.
func (t *Tracker) Stats() Stats {
	return Stats{Members: t.stored.Load(), Joins: t.joins.Load(), Leaves: t.leaves.Load()}
}
