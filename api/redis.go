package api

import (
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/services"
)

// NewRedis returns a client of the Redis in rc, for the API's commands and
// the node record ("embedded" is the address the embedded server listens
// on).
func NewRedis(rc services.Redis) (*redis.Client, error) {
	url := rc.URL
	if addr, ok := rc.Embedded(); ok {
		url = "redis://" + addr + "/0"
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("api: redis.url: %w", err)
	}
	opts.DialTimeout = rc.PingTimeout.Std()
	opts.ReadTimeout = rc.PingTimeout.Std()
	opts.WriteTimeout = rc.PingTimeout.Std()
	opts.DisableIdentity = true
	return redis.NewClient(opts), nil
}
