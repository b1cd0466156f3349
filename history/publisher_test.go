package history

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/services"
)

func TestPublisher(t *testing.T) {
	t.Parallel()
	testredis.EachBackend(t, func(t *testing.T, rdb *redis.Client) {
		ctx := testContext(t)
		cfg := services.Default()
		cfg.Services["books"] = &services.Service{History: &services.History{Size: 10, TTL: services.Duration(time.Minute)}}
		cfg.Services["news"] = nil
		p := NewPublisher(rdb, "x:", Options{})
		ps := rdb.Subscribe(ctx, "x:books.b1", "x:news.n1")
		defer ps.Close()
		for range 2 {
			if _, err := ps.Receive(ctx); err != nil {
				t.Fatal(err)
			}
		}

		off, kept, err := p.Publish(ctx, cfg, "books.b1", []byte(`{"data":1}`))
		if err != nil || !kept || off.Seq != 1 {
			t.Fatalf("history service: %v %v %v, want sequence 1 kept", off, kept, err)
		}
		if m, err := ps.ReceiveMessage(ctx); err != nil || m.Payload != `{"data":1,"subscription":"books.b1","offset":"`+off.String()+`"}` {
			t.Fatalf("history service published %v (%v)", m, err)
		}

		off, kept, err = p.Publish(ctx, cfg, "news.n1", []byte(`{"data":2}`))
		if err != nil || kept || off != (Offset{}) {
			t.Fatalf("plain service: %v %v %v, want no offset", off, kept, err)
		}
		if m, err := ps.ReceiveMessage(ctx); err != nil || m.Channel != "x:news.n1" || m.Payload != `{"data":2,"subscription":"news.n1"}` {
			t.Fatalf("plain service published %v (%v)", m, err)
		}

		for _, c := range []struct {
			name, obj string
			want      error
		}{
			{"books", `{"data":1}`, ErrName},
			{".b1", `{"data":1}`, ErrName},
			{"chat.c1", `{"data":1}`, ErrService},
			{"books.b1", `{}`, ErrMessage},
			{"books.b1", `{"data":1,"subscription":"books.b2"}`, ErrMessage},
		} {
			if _, _, err := p.Publish(ctx, cfg, c.name, []byte(c.obj)); !errors.Is(err, c.want) {
				t.Errorf("Publish(%s, %s) = %v, want %v", c.name, c.obj, err, c.want)
			}
		}
	})
}
