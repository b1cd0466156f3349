// Package metrics owns wsrouter's Prometheus metrics and the operations
// endpoints (/metrics, /healthz, /readyz) served on metrics.listen.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Drop reasons used as the reason label of wsrouter_dropped_total.
const (
	DropFilter       = "filter"
	DropOrder        = "order"
	DropThrottle     = "throttle"
	DropSlowConsumer = "slow_consumer"
	DropMalformed    = "malformed"
	DropOverload     = "overload"
)

// callbackBuckets are the callback histograms' bounds in seconds.
var callbackBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// Metrics holds every collector wsrouter exports. The zero value is not
// usable; build one with New.
type Metrics struct {
	// Registry is the registry the collectors live in, with the Go runtime
	// and process collectors.
	Registry *prometheus.Registry

	Connections      prometheus.Gauge
	ConnectionsTotal prometheus.Counter
	Events           *prometheus.CounterVec
	Deliveries       prometheus.Counter
	Dropped          *prometheus.CounterVec
	CallbackDuration *prometheus.HistogramVec
	// ServiceCallbackDuration is CallbackDuration by service too ("" for
	// the ticket validation, which belongs to no service).
	ServiceCallbackDuration *prometheus.HistogramVec
	RedisUp                 *RedisUp
	ConfigReloads           *prometheus.CounterVec
	HeartbeatFailures       prometheus.Counter
	// Subscriptions counts live subscriptions by service; it changes on
	// subscribe and unsubscribe, never on a delivery.
	Subscriptions *prometheus.GaugeVec
	// PresenceMembers counts the presence members this node holds in
	// Redis; PresenceEvents the join and leave events it published.
	PresenceMembers prometheus.Gauge
	PresenceEvents  *prometheus.CounterVec
	// HistoryRecoveries counts subscribes with "since" on a service with
	// history, by result (recovered, not_recovered).
	HistoryRecoveries *prometheus.CounterVec
	// ConnectAuth counts the connect-time checks by result (ok, refused,
	// unavailable).
	ConnectAuth *prometheus.CounterVec

	// own is a registry of the wsrouter_* collectors alone, for readers
	// that sample them often (the status page).
	own *prometheus.Registry
}

// Results of a recovery, the result label of
// wsrouter_history_recoveries_total.
const (
	Recovered    = "recovered"
	NotRecovered = "not_recovered"
)

// New registers a fresh set of collectors in their own registry, so several
// routers (in tests) never clash.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wsrouter_connections", Help: "Open WebSocket connections.",
		}),
		ConnectionsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wsrouter_connections_total", Help: "WebSocket connections accepted since start.",
		}),
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsrouter_events_total", Help: "Client events handled, by event and result (ok, error).",
		}, []string{"event", "result"}),
		Deliveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wsrouter_deliveries_total", Help: "Published messages queued to a client.",
		}),
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsrouter_dropped_total", Help: "Messages not delivered, by reason (filter, order, throttle, slow_consumer, malformed, overload).",
		}, []string{"reason"}),
		CallbackDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "wsrouter_callback_duration_seconds", Help: "Service callback duration including retries, by callback and result (ok, error, unavailable).",
			Buckets: callbackBuckets,
		}, []string{"callback", "result"}),
		ServiceCallbackDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "wsrouter_service_callback_duration_seconds", Help: "Service callback duration including retries, by service, callback and result (ok, error, unavailable).",
			Buckets: callbackBuckets,
		}, []string{"service", "callback", "result"}),
		RedisUp: newRedisUp(),
		ConfigReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsrouter_config_reload_total", Help: "Configuration reloads, by result (ok, error).",
		}, []string{"result"}),
		HeartbeatFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wsrouter_heartbeat_failures_total", Help: "on_heartbeat callbacks that did not answer ok.",
		}),
		Subscriptions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wsrouter_subscriptions", Help: "Live subscriptions, by service.",
		}, []string{"service"}),
		PresenceMembers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wsrouter_presence_members", Help: "Presence members this node holds in Redis, summed over subscription names.",
		}),
		PresenceEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsrouter_presence_events_total", Help: "Presence events this node published, by event (join, leave).",
		}, []string{"event"}),
		HistoryRecoveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsrouter_history_recoveries_total", Help: "Subscribes with since on a service with history, by result (recovered, not_recovered).",
		}, []string{"result"}),
		ConnectAuth: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsrouter_connect_auth_total", Help: "Connect-time authentication checks, by result (ok, refused, unavailable).",
		}, []string{"result"}),
		own: prometheus.NewRegistry(),
	}
	ours := []prometheus.Collector{
		m.Connections, m.ConnectionsTotal, m.Events, m.Deliveries, m.Dropped,
		m.CallbackDuration, m.ServiceCallbackDuration, m.RedisUp, m.ConfigReloads, m.HeartbeatFailures,
		m.Subscriptions, m.PresenceMembers, m.PresenceEvents, m.HistoryRecoveries, m.ConnectAuth,
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.Registry.MustRegister(ours...)
	m.own.MustRegister(ours...)
	m.PresenceEvents.WithLabelValues("join")
	m.PresenceEvents.WithLabelValues("leave")
	for _, r := range []string{Recovered, NotRecovered} {
		m.HistoryRecoveries.WithLabelValues(r)
	}
	for _, r := range []string{DropFilter, DropOrder, DropThrottle, DropSlowConsumer, DropMalformed, DropOverload} {
		m.Dropped.WithLabelValues(r)
	}
	for _, r := range []string{"ok", "error"} {
		m.ConfigReloads.WithLabelValues(r)
	}
	return m
}

// ObserveReadiness exports wsrouter_ready, 1 while ready reports nil (when
// /readyz answers 200) and 0 otherwise, read at each scrape. Call it once.
func (m *Metrics) ObserveReadiness(ready func() error) {
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "wsrouter_ready", Help: "1 while /readyz answers 200: Redis connected, the delivery probe passing, not shutting down.",
	}, func() float64 {
		if ready() != nil {
			return 0
		}
		return 1
	})
	m.Registry.MustRegister(g)
	m.own.MustRegister(g)
}

// Own gathers the wsrouter_* collectors without the Go runtime and process
// collectors, whose reading (the process's open files among it) costs more
// than a reader that samples every few seconds should pay.
func (m *Metrics) Own() prometheus.Gatherer { return m.own }
