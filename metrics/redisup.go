package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// RedisUp is wsrouter_redis_up: one series without labels while every
// configured Redis is a single one (1 when each is connected and its
// delivery probe passes), or one series per Redis Cluster master,
// {shard="host:port"}, once shards are reported (SPEC section 11).
type RedisUp struct {
	desc      *prometheus.Desc
	shardDesc *prometheus.Desc

	mu      sync.Mutex
	overall float64
	shards  map[string]float64 // nil without a cluster
}

func newRedisUp() *RedisUp {
	const help = "1 when every configured Redis is connected and the delivery probe passes; per master on a Redis Cluster."
	return &RedisUp{
		desc:      prometheus.NewDesc("wsrouter_redis_up", help, nil, nil),
		shardDesc: prometheus.NewDesc("wsrouter_redis_up", help, []string{"shard"}, nil),
	}
}

// Set sets the value of the series without labels.
func (g *RedisUp) Set(v float64) {
	g.mu.Lock()
	g.overall = v
	g.mu.Unlock()
}

// SetShards replaces the per-master series with up (master address to
// whether it is up); from then on only those series are exported.
func (g *RedisUp) SetShards(up map[string]bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.shards = make(map[string]float64, len(up))
	for shard, ok := range up {
		g.shards[shard] = 0
		if ok {
			g.shards[shard] = 1
		}
	}
}

// Describe sends nothing: which series exist depends on the
// configuration, so the collector is unchecked.
func (g *RedisUp) Describe(chan<- *prometheus.Desc) {}

// Collect sends the current series.
func (g *RedisUp) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.shards == nil {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, g.overall)
		return
	}
	for shard, v := range g.shards {
		ch <- prometheus.MustNewConstMetric(g.shardDesc, prometheus.GaugeValue, v, shard)
	}
}
