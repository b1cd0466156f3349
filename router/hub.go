package router

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/wsrouter/wsrouter/control"
)

// errRedisDown is returned to subscribes while the hub has no connection.
var errRedisDown = errors.New("router: redis is not connected")

// workerQueue is how many messages may wait for one fan-out worker before
// the reader drops (and counts) them rather than block.
const workerQueue = 8192

// hub is one Redis: a single pub/sub connection shared by every channel,
// reference-counted SUBSCRIBE/UNSUBSCRIBE, the delivery probe, and the
// fan-out workers.
type hub struct {
	r            *Router
	label        string // "redis" or "redis_alt", for logs
	prefix       string
	probeKey     string
	controlKey   string
	pingInterval time.Duration
	pingTimeout  time.Duration
	client       *redis.Client // commands: the probe's PUBLISH, INFO
	subClient    *redis.Client // the pub/sub connection, with a large read buffer
	log          *slog.Logger

	// mu guards the channel table and the command queue. It is never held
	// while waiting for a channel's own lock.
	mu       sync.RWMutex
	ps       *redis.PubSub // nil while not connected
	channels map[string]*channel
	cmds     []pubsubCmd
	cmdWake  chan struct{}

	up      atomic.Bool
	lastErr atomic.Pointer[string]
	acks    chan uint64
	workers []chan *redis.Message
	wg      sync.WaitGroup
	dropLog *rate.Limiter
}

// pubsubCmd is a SUBSCRIBE or UNSUBSCRIBE, sent in the order the channel
// table changed so that Redis always ends up in the table's state.
type pubsubCmd struct {
	subscribe bool
	key       string
	ps        *redis.PubSub
}

func newHub(r *Router, label, url, prefix string, pingInterval, pingTimeout time.Duration) (*hub, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("router: %s.url: %w", label, err)
	}
	opts.DialTimeout = pingTimeout
	opts.ReadTimeout = pingTimeout
	opts.WriteTimeout = pingTimeout
	opts.MaxRetries = 1
	opts.PoolSize = 4
	opts.DisableIdentity = true
	subOpts := *opts
	subOpts.ReadBufferSize = pubsubReadBuffer
	subOpts.PoolSize = 1
	h := &hub{
		r:            r,
		label:        label,
		prefix:       prefix,
		probeKey:     prefix + "_wsrouter.probe." + r.nodeID,
		controlKey:   control.Channel(prefix),
		pingInterval: pingInterval,
		pingTimeout:  pingTimeout,
		client:       redis.NewClient(opts),
		subClient:    redis.NewClient(&subOpts),
		log:          r.log.With("redis", label),
		channels:     map[string]*channel{},
		cmdWake:      make(chan struct{}, 1),
		acks:         make(chan uint64, 16),
		dropLog:      rate.NewLimiter(1, 5),
	}
	n := max(8, 2*runtime.GOMAXPROCS(0))
	h.workers = make([]chan *redis.Message, n)
	for i := range h.workers {
		h.workers[i] = make(chan *redis.Message, workerQueue)
	}
	down := "not connected yet"
	h.lastErr.Store(&down)
	return h, nil
}

// start runs the connection loop and the workers until ctx ends.
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
		h.loop(ctx)
		for _, q := range h.workers {
			close(q)
		}
	}()
}

// wait returns once every goroutine of the hub has ended.
func (h *hub) wait() {
	h.wg.Wait()
	_ = h.client.Close()
	_ = h.subClient.Close()
}

// ready reports nil when connected and the probe passes.
func (h *hub) ready() error {
	if h.up.Load() {
		return nil
	}
	return fmt.Errorf("%s: %s", h.label, *h.lastErr.Load())
}

// loop connects, serves until the connection is lost, and reconnects with
// backoff, until ctx ends.
func (h *hub) loop(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		started := time.Now()
		err := h.serve(ctx)
		h.markDown(err)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > 30*time.Second {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// serve runs one pub/sub connection until it fails.
func (h *hub) serve(ctx context.Context) error {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The control channel is subscribed before the node turns ready, so a
	// command published while a session of this node is open reaches it.
	ps := h.subClient.Subscribe(sctx, h.probeKey, h.controlKey)
	defer ps.Close()
	stop := context.AfterFunc(sctx, func() { _ = ps.Close() })
	defer stop()

	// The probe channel's subscribe confirmation, within ping_timeout even
	// when Redis accepts the connection and then says nothing.
	if _, err := ps.ReceiveTimeout(sctx, h.pingTimeout); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	cuts, counted := h.bufferCuts(sctx) // to tell later whether Redis cut this connection for its buffer

	h.mu.Lock()
	h.ps = ps
	h.channels = map[string]*channel{}
	h.cmds = nil
	h.mu.Unlock()

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel(nil)
	wg.Add(2)
	go func() { defer wg.Done(); h.sendCommands(sctx, cancel) }()
	go func() { defer wg.Done(); h.probe(sctx, cancel) }()

	for {
		msg, err := ps.Receive(sctx)
		if err != nil {
			if cause := context.Cause(sctx); cause != nil {
				return cause
			}
			if closedByRedis(err) {
				if why := h.whyCut(ctx, cuts, counted); why != "" {
					h.log.Warn("redis closed the pub/sub connection", "reason", why,
						"fix", "raise client-output-buffer-limit pubsub in Redis (docs/OPERATIONS.md)", "err", err)
				}
			}
			return err
		}
		switch m := msg.(type) {
		case *redis.Message:
			if m.Channel == h.probeKey {
				if seq, err := strconv.ParseUint(m.Payload, 10, 64); err == nil {
					select {
					case h.acks <- seq:
					default:
					}
				}
				continue
			}
			h.dispatch(m)
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				h.confirm(ps, m.Channel)
			}
		}
	}
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
	if m.Channel == h.controlKey {
		h.r.control(m.Payload)
		return
	}
	h.mu.RLock()
	ch := h.channels[m.Channel]
	h.mu.RUnlock()
	if ch == nil {
		return
	}
	var filterFields []string
	withOffset := false
	if svc, ok := h.r.cfg.Load().Service(serviceOf(ch.name)); ok {
		filterFields, withOffset = svc.FilterFields, svc.History != nil
	}
	p, warn, err := h.r.decodeMessage(ch.name, []byte(m.Payload), len(filterFields) > 0, withOffset, time.Now())
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
func (h *hub) join(name string, sub *subscription) (*channel, error) {
	key := h.prefix + name
	h.mu.Lock()
	if h.ps == nil || !h.up.Load() {
		h.mu.Unlock()
		return nil, errRedisDown
	}
	ch := h.channels[key]
	if ch == nil {
		ch = newChannel(h, key, name, h.ps)
		h.channels[key] = ch
		h.queue(pubsubCmd{subscribe: true, key: key, ps: h.ps})
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
	if ch.refs > 0 || !ch.isReady || h.channels[ch.key] != ch {
		return
	}
	delete(h.channels, ch.key)
	if ch.ps == h.ps {
		h.queue(pubsubCmd{key: ch.key, ps: ch.ps})
	}
}

// confirm marks the channel subscribed once Redis says so.
func (h *hub) confirm(ps *redis.PubSub, key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := h.channels[key]
	if ch == nil || ch.ps != ps || ch.isReady {
		return
	}
	ch.isReady = true
	close(ch.ready)
	if ch.refs == 0 {
		delete(h.channels, key)
		h.queue(pubsubCmd{key: key, ps: ps})
	}
}

// queue appends a command for sendCommands; h.mu is held.
func (h *hub) queue(c pubsubCmd) {
	h.cmds = append(h.cmds, c)
	select {
	case h.cmdWake <- struct{}{}:
	default:
	}
}

// sendCommands writes queued SUBSCRIBE/UNSUBSCRIBE commands in order.
func (h *hub) sendCommands(ctx context.Context, fail context.CancelCauseFunc) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.cmdWake:
		}
		h.mu.Lock()
		cmds := h.cmds
		h.cmds = nil
		h.mu.Unlock()
		for _, c := range cmds {
			var err error
			if c.subscribe {
				err = c.ps.Subscribe(ctx, c.key)
			} else {
				err = c.ps.Unsubscribe(ctx, c.key)
			}
			if err != nil {
				fail(fmt.Errorf("send (un)subscribe %s: %w", c.key, err))
				return
			}
		}
	}
}

// probe publishes to the router's own probe channel every ping_interval and
// fails the connection when the message does not come back through the
// pub/sub connection within ping_timeout.
func (h *hub) probe(ctx context.Context, fail context.CancelCauseFunc) {
	var seq uint64
	for {
		seq++
		if err := h.roundTrip(ctx, seq); err != nil {
			if ctx.Err() == nil {
				fail(err)
			}
			return
		}
		if h.up.CompareAndSwap(false, true) {
			h.markUp()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(h.pingInterval):
		}
	}
}

func (h *hub) roundTrip(ctx context.Context, seq uint64) error {
	deadline := time.NewTimer(h.pingTimeout)
	defer deadline.Stop()
	pctx, cancel := context.WithTimeout(ctx, h.pingTimeout)
	err := h.client.Publish(pctx, h.probeKey, strconv.FormatUint(seq, 10)).Err()
	cancel()
	if err != nil {
		return fmt.Errorf("delivery probe: publish: %w", err)
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case got := <-h.acks:
			if got == seq {
				return nil
			}
		case <-deadline.C:
			return fmt.Errorf("delivery probe: no message back through pub/sub within ping_timeout (%s)", h.pingTimeout)
		}
	}
}

func (h *hub) markUp() {
	h.log.Info("redis connected; delivery probe passing", "probe_channel", h.probeKey)
	h.r.redisChanged(false)
}

// markDown forgets every channel (their subscriptions belong to sessions
// that are being closed) and tells the router.
func (h *hub) markDown(err error) {
	msg := "connection lost"
	if err != nil {
		msg = err.Error()
	}
	h.lastErr.Store(&msg)
	h.mu.Lock()
	for _, ch := range h.channels {
		if !ch.isReady {
			ch.failed = true
			ch.isReady = true
			close(ch.ready)
		}
	}
	h.channels = map[string]*channel{}
	h.cmds = nil
	h.ps = nil
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
