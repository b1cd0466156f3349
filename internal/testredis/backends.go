package testredis

import (
	"os/exec"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/embedredis"
)

// EachBackend runs f in a parallel subtest on each kind of Redis the
// router runs on: "redis-server" when one is on PATH, and "embedded". Each
// is started for its subtest, with a client closed when it ends. Code that
// must behave alike on both, such as Lua scripts, is tested through it.
func EachBackend(t *testing.T, f func(t *testing.T, rdb *redis.Client)) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err == nil {
		t.Run("redis-server", func(t *testing.T) {
			t.Parallel()
			f(t, Start(t).Client(t))
		})
	}
	t.Run("embedded", func(t *testing.T) {
		t.Parallel()
		e, err := embedredis.Start("127.0.0.1:0")
		if err != nil {
			t.Fatalf("testredis: embedded: %v", err)
		}
		t.Cleanup(e.Close)
		c := redis.NewClient(&redis.Options{Addr: e.Addr()})
		t.Cleanup(func() { c.Close() })
		f(t, c)
	})
}
