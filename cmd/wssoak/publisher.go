package main

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// publishTick is how often the publisher sends the messages due.
const publishTick = 20 * time.Millisecond

// publisher sends sequence-numbered messages round-robin over the topics
// at a steady rate. For each topic it records the last number issued
// (before PUBLISH is sent) and the last acknowledged (PUBLISH returned), so
// clients know which numbers they must receive.
type publisher struct {
	rdb     *redis.Client
	prefix  string
	service string
	rate    float64
	issued  []atomic.Int64
	acked   []atomic.Int64
	sent    atomic.Int64
	next    int // next topic, round-robin
	seq     []int64
}

func newPublisher(rdb *redis.Client, prefix, service string, topics int, rate float64) *publisher {
	return &publisher{
		rdb: rdb, prefix: prefix, service: service, rate: rate,
		issued: make([]atomic.Int64, topics),
		acked:  make([]atomic.Int64, topics),
		seq:    make([]int64, topics),
	}
}

func topicName(service string, topic int) string {
	return service + ".t" + strconv.Itoa(topic)
}

// run publishes until ctx ends; it returns the first PUBLISH error.
func (p *publisher) run(ctx context.Context) error {
	ticker := time.NewTicker(publishTick)
	defer ticker.Stop()
	start := time.Now()
	var due float64
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-ticker.C:
			target := p.rate * now.Sub(start).Seconds()
			n := int(target - due)
			if n <= 0 {
				continue
			}
			due += float64(n)
			if err := p.publish(ctx, n); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
	}
}

// publish sends n messages in one pipeline.
func (p *publisher) publish(ctx context.Context, n int) error {
	type item struct {
		topic int
		seq   int64
	}
	items := make([]item, 0, n)
	pipe := p.rdb.Pipeline()
	for range n {
		t := p.next
		p.next = (p.next + 1) % len(p.seq)
		p.seq[t]++
		name := topicName(p.service, t)
		payload := fmt.Sprintf(`{"subscription":%q,"data":{"seq":%d}}`, name, p.seq[t])
		p.issued[t].Store(p.seq[t])
		pipe.Publish(ctx, p.prefix+name, payload)
		items = append(items, item{t, p.seq[t]})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("wssoak: publish: %w", err)
	}
	for _, it := range items {
		p.acked[it.topic].Store(it.seq)
	}
	p.sent.Add(int64(n))
	return nil
}
