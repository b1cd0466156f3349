package broker

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// clientStateReload is how old a cluster client's slot map may get before
// a command reloads it.
const clientStateReload = 2 * time.Second

// NewClient returns a command client for a single Redis (url) or, when
// cluster is set, a Redis Cluster: for scripts, keys and publishes of the
// API, presence and `wsrouter publish`. timeout bounds the dial and each
// command; zero keeps go-redis's defaults.
func NewClient(url string, cluster *Cluster, timeout time.Duration) (redis.UniversalClient, error) {
	if cluster != nil {
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:           cluster.Addrs,
			Username:        cluster.Username,
			Password:        cluster.Password,
			DialTimeout:     timeout,
			ReadTimeout:     timeout,
			WriteTimeout:    timeout,
			DisableIdentity: true,
			// Commands follow a failover within seconds, not go-redis's
			// default minute: a dead master is not reported by MOVED.
			ClusterStateReloadInterval: clientStateReload,
		}), nil
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("broker: url: %w", err)
	}
	opts.DialTimeout = timeout
	opts.ReadTimeout = timeout
	opts.WriteTimeout = timeout
	opts.DisableIdentity = true
	return redis.NewClient(opts), nil
}

// IsCluster reports whether c is a Redis Cluster client, whose publishes
// must be SPUBLISH.
func IsCluster(c redis.UniversalClient) bool {
	_, ok := c.(*redis.ClusterClient)
	return ok
}

// Publish sends payload to channel with c: SPUBLISH on a Redis Cluster
// (the router subscribes with SSUBSCRIBE there), PUBLISH otherwise.
func Publish(ctx context.Context, c redis.UniversalClient, channel string, payload any) *redis.IntCmd {
	if IsCluster(c) {
		return c.SPublish(ctx, channel, payload)
	}
	return c.Publish(ctx, channel, payload)
}
