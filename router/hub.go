package router

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/wsrouter/wsrouter/auth"
	"github.com/wsrouter/wsrouter/broker"
	"github.com/wsrouter/wsrouter/control"
	"github.com/wsrouter/wsrouter/services"
)

// errRedisDown is returned to subscribes while the hub has no connection.
var errRedisDown = errors.New("router: redis is not connected")

// workerQueue is how many messages may wait for one fan-out worker before
// the reader drops (and counts) them rather than block.
const workerQueue = 8192

// hub is one configured Redis (redis or redis_alt): the channel table with
// reference-counted subscribes over its broker, the hold-back of channels
// until Redis confirms them, and the fan-out workers.
type hub struct {
	r          *Router
	label      string // "redis" or "redis_alt", for logs
	prefix     string
	controlKey string
	broker     broker.Broker
	client     redis.UniversalClient // commands: scripts and keys
	log        *slog.Logger

	// mu guards the channel table. It is never held while waiting for a
	// channel's own lock. The broker's (un)subscribes are queued under it,
	// so Redis ends up in the table's state.
	mu       sync.RWMutex
	channels map[string]*channel
	patterns map[string]*channel // wildcard subscriptions, by Redis glob

	up      atomic.Bool
	workers []chan *redis.Message
	wg      sync.WaitGroup
	dropLog *rate.Limiter
}

func newHub(r *Router, label string, rc services.Redis) (*hub, error) {
	log := r.log.With("redis", label)
	prefix := rc.ChannelPrefix
	controlKey := control.Channel(prefix)
	b, err := broker.New(broker.Options{
		URL:          redisURL(rc),
		Cluster:      brokerCluster(rc),
		ProbeChannel: prefix + "_wsrouter.probe." + r.nodeID,
		Fixed:        []string{controlKey},
		PingInterval: rc.PingInterval.Std(),
		PingTimeout:  rc.PingTimeout.Std(),
		Logger:       log,
	})
	if err != nil {
		return nil, fmt.Errorf("router: %s: %w", label, err)
	}
	h := &hub{
		r:          r,
		label:      label,
		prefix:     prefix,
		controlKey: controlKey,
		broker:     b,
		client:     b.Client(),
		log:        log,
		channels:   map[string]*channel{},
		patterns:   map[string]*channel{},
		dropLog:    rate.NewLimiter(1, 5),
	}
	n := max(8, 2*runtime.GOMAXPROCS(0))
	h.workers = make([]chan *redis.Message, n)
	for i := range h.workers {
		h.workers[i] = make(chan *redis.Message, workerQueue)
	}
	return h, nil
}

// start runs the broker and the workers until ctx ends.
func (h *hub) start(ctx context.Context) {
	for _, q := range h.workers {
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			for m := range q {
				h.fanout(m)
			}
		}()
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.broker.Run(ctx, h)
		for _, q := range h.workers {
			close(q)
		}
	}()
}

// wait returns once every goroutine of the hub has ended.
func (h *hub) wait() {
	h.wg.Wait()
	_ = h.broker.Close()
}

// ready reports nil when connected and the probe passes.
func (h *hub) ready() error {
	if h.up.Load() {
		return nil
	}
	err := h.broker.Ready()
	if err == nil {
		err = errors.New("connecting")
	}
	return fmt.Errorf("%s: %s", h.label, err)
}

// Message is the broker's callback for each message: it hands m to the
// worker of its channel.
func (h *hub) Message(m *broker.Message) { h.dispatch(m) }

// Subscribed is the broker's callback when Redis confirmed a subscribe.
func (h *hub) Subscribed(name string, pattern bool) {
	h.confirm(name, pattern)
}

// Up is the broker's callback when a connection is ready; the hub is up
// when every shard is.
func (h *hub) Up(shard string) {
	h.r.shardsChanged()
	if h.broker.Ready() == nil && h.up.CompareAndSwap(false, true) {
		h.r.redisChanged(false)
	}
}

// Down is the broker's callback when a connection is lost.
func (h *hub) Down(shard string, err error) {
	h.r.shardsChanged()
	if h.broker.Sharded() {
		h.shardDown(shard, err)
		return
	}
	h.markDown(err)
}

// dispatch hands m to the worker of its channel without ever blocking.
func (h *hub) dispatch(m *redis.Message) {
	f := fnv.New32a()
	_, _ = f.Write([]byte(m.Channel))
	q := h.workers[f.Sum32()%uint32(len(h.workers))]
	select {
	case q <- m:
	default:
		h.r.drops.overload.Inc()
		if h.dropLog.Allow() {
			h.log.Warn("fan-out worker queue full; message dropped", "channel", m.Channel, "queue", workerQueue)
		}
	}
}

// fanout decodes one message once and delivers it to every subscription of
// its channel.
func (h *hub) fanout(m *redis.Message) {
	if m.Channel == h.controlKey && m.Pattern == "" {
		h.r.control(m.Payload)
		return
	}
	h.mu.RLock()
	var ch *channel
	if m.Pattern != "" {
		ch = h.patterns[m.Pattern]
	} else {
		ch = h.channels[m.Channel]
	}
	h.mu.RUnlock()
	if ch == nil {
		return
	}
	name := ch.name
	if ch.pattern {
		var ok bool
		if name, ok = strings.CutPrefix(m.Channel, h.prefix); !ok || strings.HasPrefix(name, "_wsrouter.") {
			return // the router's own channels (control, probe) are never delivered
		}
	}
	var filterFields []string
	withOffset := false
	if svc, ok := h.r.cfg.Load().Service(serviceOf(ch.name)); ok {
		filterFields, withOffset = svc.FilterFields, svc.History != nil
	}
	p, warn, err := h.r.decodeMessage(name, []byte(m.Payload), len(filterFields) > 0, withOffset, time.Now())
	if err != nil {
		h.r.drops.malformed.Inc()
		if h.dropLog.Allow() {
			h.log.Warn("publication dropped", "channel", m.Channel, "err", err, "payload", truncateRunes(m.Payload, 200))
		}
		return
	}
	if p == nil {
		return // a presence event this service does not send now
	}
	if ch.pattern {
		if p.presence != nil {
			return // presence is per name; a wildcard subscription has none
		}
		p.forWildcard(ch.name)
	}
	if warn != "" && h.dropLog.Allow() {
		h.log.Warn(warn, "channel", m.Channel)
	}
	var cache encodeCache
	n := 0
	ch.each(func(sub *subscription) {
		if sub.deliver(p, filterFields, &cache) {
			n++
		}
	})
	if n > 0 {
		h.r.metrics.Deliveries.Add(float64(n))
	}
}

// join adds sub to the channel of name, subscribing in Redis when it is
// the channel's first subscription. The channel is kept in the table by its
// reference count, taken under the hub's lock; sub enters the channel's
// list after that lock is released.
func (h *hub) join(name string, sub *subscription, pattern bool) (*channel, error) {
	key, table, subscribe := h.prefix+name, h.channels, h.broker.Subscribe
	if pattern {
		key, table, subscribe = escapeGlob(h.prefix)+auth.RedisGlob(name), h.patterns, h.broker.PSubscribe
	}
	h.mu.Lock()
	if !h.up.Load() {
		h.mu.Unlock()
		return nil, errRedisDown
	}
	ch := table[key]
	if ch == nil {
		if err := subscribe(key); err != nil {
			h.mu.Unlock()
			return nil, fmt.Errorf("router: subscribe %s: %w", name, err)
		}
		ch = newChannel(h, key, name, pattern)
		table[key] = ch
	}
	ch.refs++
	h.mu.Unlock()
	ch.add(sub)
	return ch, nil
}

// remove takes sub off ch, unsubscribing in Redis when it was the last one.
// A channel still waiting for its confirmation is kept until it arrives.
func (h *hub) remove(ch *channel, sub *subscription) {
	ch.del(sub)
	h.mu.Lock()
	defer h.mu.Unlock()
	ch.refs--
	table := h.table(ch.pattern)
	if ch.refs > 0 || !ch.isReady || table[ch.key] != ch {
		return
	}
	delete(table, ch.key)
	h.unsubscribe(ch.key, ch.pattern)
}

// table is the channel table, or with pattern the pattern table; h.mu is
// held.
func (h *hub) table(pattern bool) map[string]*channel {
	if pattern {
		return h.patterns
	}
	return h.channels
}

// confirm marks the channel or pattern subscribed once Redis says so.
func (h *hub) confirm(key string, pattern bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	table := h.table(pattern)
	ch := table[key]
	if ch == nil {
		return
	}
	if ch.isReady {
		if ch.interrupted { // subscribed again on a new cluster master
			ch.interrupted = false
			resumeAll(ch.pauses)
			ch.pauses = nil
		}
		return
	}
	ch.isReady = true
	close(ch.ready)
	if ch.refs == 0 {
		delete(table, key)
		h.unsubscribe(key, pattern)
	}
}

// unsubscribe queues the UNSUBSCRIBE (PUNSUBSCRIBE) of key; h.mu is held.
func (h *hub) unsubscribe(key string, pattern bool) {
	unsubscribe := h.broker.Unsubscribe
	if pattern {
		unsubscribe = h.broker.PUnsubscribe
	}
	if err := unsubscribe(key); err != nil && h.dropLog.Allow() {
		h.log.Warn("unsubscribe not sent", "channel", key, "err", err)
	}
}

// escapeGlob escapes every glob character of s (the channel prefix), '*'
// included, so that a pattern matches it literally.
func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`*?[]\`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// markDown forgets every channel (their subscriptions belong to sessions
// that are being closed) and tells the router.
func (h *hub) markDown(err error) {
	msg := "connection lost"
	if err != nil {
		msg = err.Error()
	}
	h.mu.Lock()
	for _, table := range []map[string]*channel{h.channels, h.patterns} {
		for _, ch := range table {
			if !ch.isReady {
				ch.failed = true
				ch.isReady = true
				close(ch.ready)
			}
		}
	}
	h.channels = map[string]*channel{}
	h.patterns = map[string]*channel{}
	wasUp := h.up.Swap(false)
	h.mu.Unlock()
	if errors.Is(err, context.Canceled) { // the router is stopping
		h.r.redisChanged(false)
		return
	}
	if wasUp {
		h.log.Error("redis lost; closing clients so they reconnect", "err", msg)
		h.r.redisChanged(true)
	} else if err != nil && !errors.Is(err, context.Canceled) {
		h.log.Warn("redis not available; retrying", "err", msg)
	}
}

// serviceOf returns the service part of a subscription name.
func serviceOf(name string) string {
	svc, _, _ := strings.Cut(name, ".")
	return svc
}
