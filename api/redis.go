package api

import (
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/broker"
	"github.com/wsrouter/wsrouter/services"
)

// NewRedis returns a client of the Redis in rc, for the API's commands and
// the node record ("embedded" is the address the embedded server listens
// on): a *redis.ClusterClient when rc is a Redis Cluster.
func NewRedis(rc services.Redis) (redis.UniversalClient, error) {
	url, cluster := rc.URL, (*broker.Cluster)(nil)
	if addr, ok := rc.Embedded(); ok {
		url = "redis://" + addr + "/0"
	}
	if c := rc.Cluster; c != nil {
		cluster = &broker.Cluster{Addrs: c.Addrs, Username: c.Username, Password: c.Password}
	}
	rdb, err := broker.NewClient(url, cluster, rc.PingTimeout.Std())
	if err != nil {
		return nil, fmt.Errorf("api: redis.url: %w", err)
	}
	return rdb, nil
}
