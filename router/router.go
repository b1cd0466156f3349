package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsrouter/wsrouter/broker"
	"github.com/wsrouter/wsrouter/callbacks"
	"github.com/wsrouter/wsrouter/history"
	"github.com/wsrouter/wsrouter/internal/clock"
	"github.com/wsrouter/wsrouter/metrics"
	"github.com/wsrouter/wsrouter/presence"
	"github.com/wsrouter/wsrouter/services"
)

// Options are the router's collaborators.
type Options struct {
	// Logger receives every log line; nil means slog.Default().
	Logger *slog.Logger
	// Metrics receives the counters; nil means a private set.
	Metrics *metrics.Metrics
	// NodeID names this router in its probe channel; "" means random.
	NodeID string
	// Clock times throttled messages, renewals, heartbeats and
	// keepalive pings; nil means the real clock.
	Clock clock.Clock
}

// Router accepts WebSocket connections and routes events between clients,
// service callbacks and Redis. Build it with New, then Start it.
type Router struct {
	cfg        atomic.Pointer[services.Config]
	cb         atomic.Pointer[callbacks.Client]
	auth       atomic.Pointer[authState]
	gate       *callbacks.Gate // caps callbacks in flight across every client a reload builds
	log        *slog.Logger
	metrics    *metrics.Metrics
	drops      dropCounters
	strangers  *strangerLog // lines strangers can cause
	nodeID     string
	hubs       []*hub
	history    *history.Store // on the first Redis (redis, not redis_alt)
	closeQueue *closeQueue
	tracker    *presence.Tracker // members of presence services
	presence   presenceRedis
	clock      clock.Clock

	mu       sync.Mutex
	sessions map[*session]struct{}
	draining bool
	wasReady bool
	sessWG   sync.WaitGroup

	cancel context.CancelFunc
	bgWG   sync.WaitGroup // mass closes
}

// dropCounters are the wsrouter_dropped_total series bound once, off the
// hot path.
type dropCounters struct {
	filter, order, throttle, malformed, overload prometheus.Counter
}

// New builds a router for cfg, which must pass cfg.Validate (a
// configuration built in Go is checked as a file would be). It does not
// connect to Redis until Start.
func New(cfg *services.Config, opts Options) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("router: invalid configuration: %w", err)
	}
	r := &Router{
		log:       opts.Logger,
		metrics:   opts.Metrics,
		nodeID:    opts.NodeID,
		clock:     opts.Clock,
		sessions:  map[*session]struct{}{},
		strangers: newStrangerLog(),
		gate:      callbacks.NewGate(cfg.HTTP.MaxConcurrency, callbacks.ServiceShare(cfg.HTTP.MaxConcurrency)),
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.clock == nil {
		r.clock = clock.Real
	}
	if r.metrics == nil {
		r.metrics = metrics.New()
	}
	if r.nodeID == "" {
		r.nodeID = newSessionID()
	}
	r.drops = dropCounters{
		filter:    r.metrics.Dropped.WithLabelValues(metrics.DropFilter),
		order:     r.metrics.Dropped.WithLabelValues(metrics.DropOrder),
		throttle:  r.metrics.Dropped.WithLabelValues(metrics.DropThrottle),
		malformed: r.metrics.Dropped.WithLabelValues(metrics.DropMalformed),
		overload:  r.metrics.Dropped.WithLabelValues(metrics.DropOverload),
	}
	if err := r.apply(cfg); err != nil {
		return nil, err
	}
	for _, rc := range redisConfigs(cfg) {
		h, err := newHub(r, rc.label, rc.Redis)
		if err != nil {
			closeAuth(r.auth.Load(), nil)
			return nil, err
		}
		r.hubs = append(r.hubs, h)
	}
	if err := r.startPresence(cfg); err != nil {
		closeAuth(r.auth.Load(), nil)
		return nil, err
	}
	r.history = history.New(r.hubs[0].client, cfg.Redis.ChannelPrefix, history.Options{Sharded: r.hubs[0].broker.Sharded()})
	r.closeQueue = newCloseQueue(r)
	return r, nil
}

type labelledRedis struct {
	label string
	services.Redis
}

func redisConfigs(cfg *services.Config) []labelledRedis {
	out := []labelledRedis{{"redis", cfg.Redis}}
	if cfg.RedisAlt != nil {
		out = append(out, labelledRedis{"redis_alt", *cfg.RedisAlt})
	}
	return out
}

// redisURL resolves "embedded" to the address the embedded server listens
// on; "" for a cluster.
func redisURL(rc services.Redis) string {
	if rc.Cluster != nil {
		return ""
	}
	if addr, ok := rc.Embedded(); ok {
		return "redis://" + addr + "/0"
	}
	return rc.URL
}

// apply installs cfg as the configuration new events and callbacks see.
// The callback client is rebuilt only when the http section changed, so
// its keep-alive connections carry over otherwise; every client shares the
// router's gate, so http.max_concurrency holds across the calls of the old
// and the new client together.
func (r *Router) apply(cfg *services.Config) error {
	old := r.cfg.Load()
	if old == nil || !reflect.DeepEqual(old.HTTP, cfg.HTTP) {
		r.gate.SetLimits(cfg.HTTP.MaxConcurrency, callbacks.ServiceShare(cfg.HTTP.MaxConcurrency))
		cb, err := callbacks.New(callbacks.Options{
			Timeout:               cfg.HTTP.Timeout.Std(),
			Tries:                 cfg.HTTP.Tries,
			Wait:                  cfg.HTTP.Wait.Std(),
			CAFile:                cfg.HTTP.CAFile,
			RateLimitResetHeaders: cfg.HTTP.RateLimitResetHeaders,
			Gate:                  r.gate,
			Logger:                r.log,
			Observe: func(service, callback, result string, d time.Duration) {
				r.metrics.CallbackDuration.WithLabelValues(callback, result).Observe(d.Seconds())
				r.metrics.ServiceCallbackDuration.WithLabelValues(service, callback, result).Observe(d.Seconds())
			},
		})
		if err != nil {
			return fmt.Errorf("router: callbacks: %w", err)
		}
		if prev := r.cb.Swap(cb); prev != nil {
			prev.CloseIdleConnections()
		}
	}
	prev := r.auth.Load()
	st, err := r.buildAuth(cfg, old, prev)
	if err != nil {
		return fmt.Errorf("router: authentication: %w", err)
	}
	r.auth.Store(st)
	r.cfg.Store(cfg)
	closeAuth(prev, st)
	if r.closeQueue != nil {
		r.closeQueue.setRate(cfg.HTTP.CloseCallbacksPerSecond)
	}
	return nil
}

// Start connects to Redis (retrying in the background until it can) and
// starts the paced close-callback queue. The router serves until Shutdown.
func (r *Router) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	for _, h := range r.hubs {
		h.start(ctx)
	}
	r.closeQueue.start()
	r.presence.run(ctx, r.tracker)
}

// Ready reports nil when the router can take new connections: not
// shutting down, every Redis connected and its delivery probe passing.
func (r *Router) Ready() error {
	r.mu.Lock()
	draining := r.draining
	r.mu.Unlock()
	if draining {
		return errors.New("shutting down")
	}
	for _, h := range r.hubs {
		if err := h.ready(); err != nil {
			return err
		}
	}
	return nil
}

// redisChanged is called by a hub that connected or lost its connection;
// closeClients is false when the loss is the router stopping.
func (r *Router) redisChanged(closeClients bool) {
	ready := true
	for _, h := range r.hubs {
		ready = ready && h.up.Load()
	}
	if ready {
		r.metrics.RedisUp.Set(1)
	} else {
		r.metrics.RedisUp.Set(0)
	}
	r.mu.Lock()
	lost := r.wasReady && !ready
	r.wasReady = ready
	r.mu.Unlock()
	if lost && closeClients {
		r.closeAll(disconnectRedisLost, 2*time.Second)
	}
}

func (r *Router) addSession(s *session) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.draining {
		return false
	}
	r.sessions[s] = struct{}{}
	r.sessWG.Add(1)
	r.metrics.Connections.Inc()
	r.metrics.ConnectionsTotal.Inc()
	return true
}

func (r *Router) removeSession(s *session) {
	r.mu.Lock()
	delete(r.sessions, s)
	r.mu.Unlock()
	r.metrics.Connections.Dec()
	r.sessWG.Done()
}

// sessionList is a snapshot of the open sessions, taken under r.mu so
// that the caller works on them without holding it.
func (r *Router) sessionList() []*session {
	r.mu.Lock()
	defer r.mu.Unlock()
	all := make([]*session, 0, len(r.sessions))
	for s := range r.sessions {
		all = append(all, s)
	}
	return all
}

// closeAll closes every session with d, in batches spread over spread,
// so that thousands of clients do not reconnect in the same instant.
func (r *Router) closeAll(d disconnect, spread time.Duration) {
	all := r.sessionList()
	if len(all) == 0 {
		return
	}
	r.log.Info("closing all clients", "count", len(all), "code", int(d.code), "reason", d.reason, "spread", spread.String())
	const batches = 20
	size := max(1, (len(all)+batches-1)/batches)
	pause := spread / batches
	r.bgWG.Add(1)
	go func() {
		defer r.bgWG.Done()
		for i := 0; i < len(all); i += size {
			for _, s := range all[i:min(i+size, len(all))] {
				s.closeWith(d)
			}
			if i+size < len(all) {
				time.Sleep(pause)
			}
		}
	}()
}

// Shutdown stops taking connections, closes every client with 1001, runs
// their unsubscribe callbacks and stops Redis, all within ctx. It returns
// the number of unsubscribe callbacks left undone.
func (r *Router) Shutdown(ctx context.Context) int {
	r.mu.Lock()
	if r.draining {
		r.mu.Unlock()
		return 0
	}
	r.draining = true
	r.mu.Unlock()

	spread := 2 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		spread = min(spread, time.Until(dl)/4)
	}
	r.closeAll(disconnectShutdown, spread)
	done := make(chan struct{})
	go func() { r.sessWG.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		left := r.sessionList()
		r.log.Warn("shutdown: clients still connected at the deadline; dropping them", "count", len(left))
		for _, s := range left {
			s.drop()
		}
		<-done
	}
	left := r.closeQueue.drain(ctx)
	r.bgWG.Wait()
	if r.cancel != nil {
		r.cancel()
	}
	for _, h := range r.hubs {
		h.wait()
	}
	r.presence.stop()
	closeAuth(r.auth.Load(), nil)
	return left
}

// brokerCluster is rc's cluster for the broker; nil for a single Redis.
func brokerCluster(rc services.Redis) *broker.Cluster {
	if rc.Cluster == nil {
		return nil
	}
	return &broker.Cluster{Addrs: rc.Cluster.Addrs, Username: rc.Cluster.Username, Password: rc.Cluster.Password}
}
