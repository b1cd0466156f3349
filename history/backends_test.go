package history

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/embedredis"
	"github.com/wsrouter/wsrouter/internal/testredis"
)

// backend is one kind of Redis the scripts must work on.
type backend struct {
	name   string
	client *redis.Client
}

// backends returns a real redis-server (when installed) and the embedded
// Redis, each with a client closed when the test ends.
func backends(t *testing.T) []backend {
	t.Helper()
	var out []backend
	if srv := testredis.Start(t); srv.Real {
		out = append(out, backend{"redis-server", srv.Client(t)})
	}
	e, err := embedredis.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	c := redis.NewClient(&redis.Options{Addr: e.Addr()})
	t.Cleanup(func() { c.Close() })
	return append(out, backend{"embedded", c})
}

// eachBackend runs f as a subtest on every backend.
func eachBackend(t *testing.T, f func(t *testing.T, rdb *redis.Client)) {
	t.Helper()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { f(t, b.client) })
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
