package auth

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/internal/testredis"
)

func TestMatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"chat.room_1", "chat.room_1", true},
		{"chat.room_1", "chat.room_2", false},
		{"chat.*", "chat.room_1", true},
		{"chat.*", "chat.", true},
		{"chat.*", "chat", false},
		{"*", "", true},
		{"*", "anything", true},
		{"chat.*_1", "chat.room_1", true},
		{"chat.*_1", "chat.room_12", false},
		{"*.*", "a.b", true},
		{"*.*", "ab", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"a**c", "ac", true},
		{"chat.room?", "chat.room1", false},
		{"chat.room?", "chat.room?", true},
		{"chat.[ab]", "chat.a", false},
		{"chat.[ab]", "chat.[ab]", true},
		{`chat.\*`, `chat.\x`, true},
		{`chat.\*`, `chat.*`, false},
		{"", "", true},
		{"", "a", false},
		{"books.*", "chat.x", false},
	}
	for _, tc := range cases {
		if got := Match(tc.pattern, tc.name); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

func TestRedisGlob(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"chat.*":     "chat.*",
		"a?b":        `a\?b`,
		"[x]":        `\[x\]`,
		`back\slash`: `back\\slash`,
		"*?*":        `*\?*`,
	}
	for in, want := range cases {
		if got := RedisGlob(in); got != want {
			t.Errorf("RedisGlob(%q) = %q, want %q", in, got, want)
		}
	}
}

// fuzzRedis is one redis-server for the fuzz target, with a pattern
// subscriber and a publisher.
var fuzzRedis struct {
	once sync.Once
	srv  *testredis.Server
	pub  *redis.Client
	sub  *redis.PubSub
	seq  atomic.Int64
}

// FuzzMatchAgreesWithRedis checks Match against redis-server's own
// PSUBSCRIBE matching of the escaped pattern: PUBLISH answers how many
// subscribers got the message, so a name matches the pattern exactly when
// the answer is 1.
func FuzzMatchAgreesWithRedis(f *testing.F) {
	for _, seed := range [][2]string{
		{"chat.*", "chat.room_1"}, {"chat.*", "chat"}, {"*", ""}, {"a*b*c", "aXbYc"},
		{"a?c", "abc"}, {"a?c", "a?c"}, {"[ab]", "a"}, {"[ab]", "[ab]"}, {`a\b`, `a\b`},
		{`a\*`, `a\x`}, {"**a", "a"}, {"x*", "x\x00y"}, {"[^a]", "b"}, {"a]", "a]"}, {"*[", "x["},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		r := &fuzzRedis
		r.once.Do(func() {
			r.srv = testredis.Start(noCleanup{t})
			r.pub = redis.NewClient(&redis.Options{Addr: r.srv.Addr})
			r.sub = r.pub.Subscribe(context.Background())
		})
		if !r.srv.Real {
			t.Skip("needs a real redis-server")
		}
		ctx := context.Background()
		prefix := fmt.Sprintf("fz%d:", r.seq.Add(1)) // no glob characters
		glob := prefix + RedisGlob(pattern)
		if err := r.sub.PSubscribe(ctx, glob); err != nil {
			t.Fatal(err)
		}
		// PSUBSCRIBE's confirmation comes back on the subscriber; a PING
		// after it proves the server has processed it.
		if err := r.sub.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		for {
			m, err := r.sub.Receive(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := m.(*redis.Pong); ok {
				break
			}
		}
		n, err := r.pub.Publish(ctx, prefix+name, "x").Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := r.sub.PUnsubscribe(ctx, glob); err != nil {
			t.Fatal(err)
		}
		// Drain what the publish delivered and the unsubscribe confirmation.
		if err := r.sub.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		for {
			m, err := r.sub.Receive(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := m.(*redis.Pong); ok {
				break
			}
		}
		if got := Match(pattern, name); got != (n == 1) {
			t.Fatalf("Match(%q, %q) = %v, Redis PSUBSCRIBE %q matched %v", pattern, name, got, glob, n == 1)
		}
	})
}

// noCleanup keeps the fuzz target's Redis for the whole test binary: it is
// stopped by the process ending (testredis starts it in its own process
// group and kills it with the test binary).
type noCleanup struct{ testing.TB }

func (noCleanup) Cleanup(func()) {}
