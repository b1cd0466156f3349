package history

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/internal/testredis"
)

// The code between the markers is shown verbatim in docs/HISTORY.md (a
// test there keeps them equal); this test runs it.

// snippet start
// publishKept appends a message to the history of books.book_1 and
// publishes it, with the router's publish script; it returns the offset.
func publishKept(ctx context.Context, rdb *redis.Client, script *redis.Script) (string, error) {
	name := "books.book_1"
	channel := name // redis.channel_prefix + name
	msg, err := json.Marshal(map[string]any{"subscription": name, "data": map[string]any{"title": "Dune"}})
	if err != nil {
		return "", err
	}
	keys := []string{"{" + channel + "}:history", "{" + channel + "}:history.meta"}
	// size 100, ttl 10 minutes in milliseconds; Run tries EVALSHA, then EVAL.
	return script.Run(ctx, rdb, keys, channel, msg, 100, 600000).Text()
}

// snippet end

func TestDocumentedGoSnippet(t *testing.T) {
	t.Parallel()
	testredis.EachBackend(t, func(t *testing.T, rdb *redis.Client) {
		ctx := testContext(t)
		ps := rdb.Subscribe(ctx, "books.book_1")
		defer ps.Close()
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		script := redis.NewScript(PublishScript) // in docs: the text of publish.lua
		got, err := publishKept(ctx, rdb, script)
		if err != nil {
			t.Fatal(err)
		}
		off, ok := ParseOffset(got)
		if !ok || off.Seq != 1 {
			t.Fatalf("offset %q", got)
		}
		m, err := ps.ReceiveMessage(ctx)
		if err != nil || m.Payload != `{"data":{"title":"Dune"},"subscription":"books.book_1","offset":"`+got+`"}` {
			t.Fatalf("published %v (%v)", m, err)
		}
		rec, err := New(rdb, "", Options{}).Since(ctx, "books.book_1", Offset{off.Epoch, 0}, Settings{Size: 100, TTL: 600000e6}, 0)
		if err != nil || !rec.Recovered || len(rec.Messages) != 1 || string(rec.Messages[0].Payload) != m.Payload {
			t.Fatalf("history after the snippet: %+v (%v)", rec, err)
		}
	})
}
