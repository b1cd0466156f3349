package auth

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
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

// TestMatchAdversarial: patterns of the longest kept size against a name
// of a MiB, built so that a backtracking matcher takes exponential time
// (many stars, no match at the end) or len(pattern)·len(name) steps (a
// long run after a star that almost matches everywhere). Match finds
// each answer in one pass; the test would not end in its timeout if it
// did not.
func TestMatchAdversarial(t *testing.T) {
	t.Parallel()
	name := strings.Repeat("a", 1<<20)
	stars := strings.Repeat("a*", MaxPatternBytes/2-1)
	run := "*" + strings.Repeat("a", MaxPatternBytes-3) + "b*"
	cases := []struct {
		name, pattern, against string
		want                   bool
	}{
		{"stars, no match", stars + "b", name, false},
		{"stars, match", stars + "b", name + "b", true},
		{"long run, no match", run, name, false},
		{"long run, match", run, name + "b", true},
		{"runs between stars, no match", strings.Repeat("*aaaaaaab", 100) + "*", name, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if len(tc.pattern) > MaxPatternBytes {
				t.Fatalf("pattern of %d bytes is longer than any kept", len(tc.pattern))
			}
			for range 10 {
				if got := Match(tc.pattern, tc.against); got != tc.want {
					t.Fatalf("Match = %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// TestMatchAgreesWithRegexp compares Match with the same pattern as an RE2
// expression on many short patterns and names over a small alphabet,
// where every way of splitting a name between stars is tried.
func TestMatchAgreesWithRegexp(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(alphabet string, n int) string {
		b := make([]byte, rng.IntN(n+1))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	for range 5000 {
		pattern, name := pick("ab*?", 8), pick("ab?", 10)
		parts := strings.Split(pattern, "*")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		re := regexp.MustCompile(`^` + strings.Join(parts, `(?s:.*)`) + `$`)
		if got, want := Match(pattern, name), re.MatchString(name); got != want {
			t.Fatalf("Match(%q, %q) = %v, want %v", pattern, name, got, want)
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
		drainToPong(t, r.sub)
		n, err := r.pub.Publish(ctx, prefix+name, "x").Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := r.sub.PUnsubscribe(ctx, glob); err != nil {
			t.Fatal(err)
		}
		// Drain what the publish delivered and the unsubscribe confirmation.
		drainToPong(t, r.sub)
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

// drainToPong sends a PING on sub and reads until its answer, so that
// everything the server sent before it has been read.
func drainToPong(t *testing.T, sub *redis.PubSub) {
	t.Helper()
	ctx := context.Background()
	if err := sub.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	for {
		m, err := sub.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m.(*redis.Pong); ok {
			return
		}
	}
}
