package history

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/internal/testredis"
)

var tenMinutes = Settings{Size: 100, TTL: 10 * time.Minute}

func msg(name string, i int) []byte {
	return fmt.Appendf(nil, `{"subscription":%q,"data":{"n":%d}}`, name, i)
}

func publishN(t *testing.T, s *Store, name string, n int, set Settings) []Offset {
	t.Helper()
	var out []Offset
	for i := 1; i <= n; i++ {
		off, err := s.Publish(testContext(t), name, msg(name, i), set)
		if err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		out = append(out, off)
	}
	return out
}

func TestPublishAddsOffsetAndPublishes(t *testing.T) {
	t.Parallel()
	testredis.EachBackend(t, func(t *testing.T, rdb *redis.Client) {
		ctx := testContext(t)
		s := New(rdb, "p:", Options{})
		ps := rdb.Subscribe(ctx, "p:books.b1")
		defer ps.Close()
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		cases := []struct{ in, wantPrefix string }{
			{`{"subscription":"books.b1","data":1}`, `{"subscription":"books.b1","data":1,"offset":"`},
			{" {\"subscription\":\"books.b1\",\"data\":{}} \n", ` {"subscription":"books.b1","data":{},"offset":"`},
			{`{}`, `{"offset":"`},
			{` { } `, ` { "offset":"`},
		}
		var prev Offset
		for i, c := range cases {
			off, err := s.Publish(ctx, "books.b1", []byte(c.in), tenMinutes)
			if err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			if i > 0 && (off.Epoch != prev.Epoch || off.Seq != prev.Seq+1) {
				t.Errorf("case %d: offset %v after %v; want the next in the same epoch", i, off, prev)
			}
			prev = off
			m, err := ps.ReceiveMessage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := c.wantPrefix + off.String() + `"}`
			if m.Payload != want {
				t.Errorf("case %d: published %q, want %q", i, m.Payload, want)
			}
			var v map[string]any
			if err := json.Unmarshal([]byte(m.Payload), &v); err != nil || v["offset"] != off.String() {
				t.Errorf("case %d: published %q is not JSON with the offset: %v", i, m.Payload, err)
			}
		}
		if prev.Seq != uint64(len(cases)) {
			t.Errorf("last offset %v, want sequence %d", prev, len(cases))
		}
	})
}

func TestPublishRefusesBadInput(t *testing.T) {
	t.Parallel()
	testredis.EachBackend(t, func(t *testing.T, rdb *redis.Client) {
		ctx := testContext(t)
		s := New(rdb, "", Options{})
		for _, m := range []string{``, `[]`, `"x"`, `{"a":1`, `a}`} {
			if off, err := s.Publish(ctx, "books.b1", []byte(m), tenMinutes); err == nil {
				t.Errorf("publish %q: offset %v, want an error", m, off)
			}
		}
		if _, err := s.Publish(ctx, "books.b1", []byte(`{}`), Settings{Size: 0, TTL: time.Minute}); err == nil {
			t.Error("size 0 accepted")
		}
		list, meta := Keys("books.b1")
		for _, args := range [][]any{
			{"books.b1", `{}`, "0", "1000"},
			{"books.b1", `{}`, "1.5", "1000"},
			{"books.b1", `{}`, "10", "-1"},
			{"books.b1", `{}`, "10", "1000", "del"},
		} {
			if err := publishLua.Run(ctx, rdb, []string{list, meta}, args...).Err(); err == nil || !strings.Contains(err.Error(), "wsrouter:") {
				t.Errorf("script with %v: err %v, want a wsrouter: error", args, err)
			}
		}
		if n, err := rdb.Exists(ctx, list, meta).Result(); err != nil || n != 0 {
			t.Errorf("refused publishes left %d keys (%v)", n, err)
		}
	})
}

func TestSince(t *testing.T) {
	t.Parallel()
	testredis.EachBackend(t, func(t *testing.T, rdb *redis.Client) {
		ctx := testContext(t)
		s := New(rdb, "", Options{})
		set := Settings{Size: 5, TTL: 10 * time.Minute}
		offs := publishN(t, s, "books.b1", 8, set) // keeps 4..8
		epoch := offs[0].Epoch
		cases := []struct {
			name      string
			since     Offset
			limit     int
			recovered bool
			want      []int // sequence numbers
		}{
			{"newest", offs[7], 0, true, nil},
			{"one behind", offs[6], 0, true, []int{8}},
			{"just before the oldest kept", offs[2], 0, true, []int{4, 5, 6, 7, 8}},
			{"limit", offs[2], 2, true, []int{4, 5}},
			{"older than the oldest kept", offs[1], 0, false, nil},
			{"nothing yet, trimmed", Offset{epoch, 0}, 0, false, nil},
			{"another epoch", Offset{"123", 7}, 0, false, nil},
			{"the future", Offset{epoch, 9}, 0, false, nil},
			{"huge", Offset{epoch, 1<<64 - 1}, 0, false, nil},
		}
		for _, c := range cases {
			rec, err := s.Since(ctx, "books.b1", c.since, set, c.limit)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if rec.Newest != offs[7] || rec.Recovered != c.recovered {
				t.Errorf("%s: newest %v recovered %v, want %v %v", c.name, rec.Newest, rec.Recovered, offs[7], c.recovered)
			}
			var got []int
			for _, m := range rec.Messages {
				var v struct {
					Data   struct{ N int }
					Offset string
				}
				if err := json.Unmarshal(m.Payload, &v); err != nil {
					t.Fatalf("%s: %q: %v", c.name, m.Payload, err)
				}
				if v.Offset != m.Offset.String() || m.Offset.Seq != uint64(v.Data.N) {
					t.Errorf("%s: message %q has offset %v", c.name, m.Payload, m.Offset)
				}
				got = append(got, v.Data.N)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("%s: messages %v, want %v", c.name, got, c.want)
			}
		}
	})
}

func TestEmptyHistoryHasAnEpoch(t *testing.T) {
	t.Parallel()
	testredis.EachBackend(t, func(t *testing.T, rdb *redis.Client) {
		ctx := testContext(t)
		s := New(rdb, "", Options{})
		first, err := s.Newest(ctx, "books.b1", tenMinutes)
		if err != nil {
			t.Fatal(err)
		}
		if first.Epoch == "" || first.Seq != 0 {
			t.Fatalf("newest of an empty history = %v, want an epoch and sequence 0", first)
		}
		again, err := s.Newest(ctx, "books.b1", tenMinutes)
		if err != nil || again != first {
			t.Fatalf("second read %v (%v), want %v", again, err, first)
		}
		offs := publishN(t, s, "books.b1", 2, tenMinutes)
		if offs[0] != (Offset{first.Epoch, 1}) {
			t.Fatalf("first message %v, want sequence 1 of epoch %s", offs[0], first.Epoch)
		}
		rec, err := s.Since(ctx, "books.b1", first, tenMinutes, 0)
		if err != nil || !rec.Recovered || len(rec.Messages) != 2 {
			t.Fatalf("since the empty offset: %+v (%v), want both messages", rec, err)
		}
	})
}

func TestTrimsToSize(t *testing.T) {
	t.Parallel()
	testredis.EachBackend(t, func(t *testing.T, rdb *redis.Client) {
		ctx := testContext(t)
		s := New(rdb, "", Options{})
		publishN(t, s, "books.b1", 10, Settings{Size: 3, TTL: time.Minute})
		list, _ := Keys("books.b1")
		if n, err := rdb.LLen(ctx, list).Result(); err != nil || n != 3 {
			t.Fatalf("list holds %d (%v), want 3", n, err)
		}
		// A smaller size (a reload) applies from the next publish.
		publishN(t, s, "books.b1", 1, Settings{Size: 2, TTL: time.Minute})
		if n, err := rdb.LLen(ctx, list).Result(); err != nil || n != 2 {
			t.Fatalf("list holds %d (%v), want 2", n, err)
		}
	})
}

func TestExpiryStartsANewEpoch(t *testing.T) {
	t.Parallel()
	testredis.EachBackend(t, func(t *testing.T, rdb *redis.Client) {
		ctx := testContext(t)
		s := New(rdb, "", Options{})
		short := Settings{Size: 10, TTL: 300 * time.Millisecond}
		old := publishN(t, s, "books.b1", 3, short)
		list, meta := Keys("books.b1")
		for {
			n, err := rdb.Exists(ctx, list, meta).Result()
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			if ctx.Err() != nil {
				t.Fatal("history with a 300ms ttl never expired")
			}
			time.Sleep(20 * time.Millisecond)
		}
		fresh := publishN(t, s, "books.b1", 1, short)[0]
		if fresh.Epoch == old[0].Epoch || fresh.Seq != 1 {
			t.Fatalf("after expiry the first offset is %v; want sequence 1 of a new epoch (old %v)", fresh, old[0])
		}
		rec, err := s.Since(ctx, "books.b1", old[2], short, 0)
		if err != nil || rec.Recovered || len(rec.Messages) != 0 {
			t.Fatalf("since an offset of the expired epoch: %+v (%v), want not recovered", rec, err)
		}
	})
}

func TestScriptsSurviveAScriptFlush(t *testing.T) {
	t.Parallel()
	testredis.EachBackend(t, func(t *testing.T, rdb *redis.Client) {
		ctx := testContext(t)
		s := New(rdb, "", Options{})
		publishN(t, s, "books.b1", 1, tenMinutes)
		if err := rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		// EVALSHA answers NOSCRIPT; the scripts fall back to EVAL.
		off := publishN(t, s, "books.b1", 1, tenMinutes)[0]
		if off.Seq != 2 {
			t.Fatalf("offset after the flush %v, want sequence 2", off)
		}
		if err := rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Newest(ctx, "books.b1", tenMinutes); err != nil || got != off {
			t.Fatalf("newest after the flush %v (%v), want %v", got, err, off)
		}
	})
}

func TestConcurrentPublishesGetDistinctOffsets(t *testing.T) {
	t.Parallel()
	testredis.EachBackend(t, func(t *testing.T, rdb *redis.Client) {
		s := New(rdb, "", Options{})
		const workers, each = 8, 25
		var mu sync.Mutex
		seen := map[uint64]bool{}
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					off, err := s.Publish(testContext(t), "books.b1", msg("books.b1", w*each+i), Settings{Size: 1000, TTL: time.Minute})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					seen[off.Seq] = true
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for i := uint64(1); i <= workers*each; i++ {
			if !seen[i] {
				t.Fatalf("sequence %d never handed out (%d distinct)", i, len(seen))
			}
		}
	})
}
