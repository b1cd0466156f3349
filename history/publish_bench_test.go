package history

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/testredis"
)

// BenchmarkPublish compares what a publish costs with history (the publish
// script: append, trim, expire, publish) and without (a plain PUBLISH), one
// publisher on one connection, against the test Redis (redis-server when
// installed). The message is a typical small object.
func BenchmarkPublish(b *testing.B) {
	srv := testredis.Start(b)
	rdb := srv.Client(b)
	ctx := context.Background()
	msg := []byte(`{"subscription":"bench.t","data":{"seq":1,"title":"Dune","pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}`)
	b.Logf("redis-server: %v", srv.Real)
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			if err := rdb.Publish(ctx, "bench.t", msg).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, size := range []int{100, 10000} {
		b.Run(fmt.Sprintf("history/size=%d", size), func(b *testing.B) {
			s := New(rdb, "", Options{})
			set := Settings{Size: size, TTL: 10 * time.Minute}
			for b.Loop() {
				if _, err := s.Publish(ctx, "bench.t", msg, set); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
