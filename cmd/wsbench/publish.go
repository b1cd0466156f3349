package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/broker"
)

// publishBatch is how many PUBLISH commands go in one pipeline when
// publishing as fast as possible.
const publishBatch = 100

// publisher sends the benchmark messages, one PUBLISH each (or through the
// HTTP API when api is set), round-robin over the topics: message seq goes
// to topic seq%topics.
type publisher struct {
	rdb      redis.UniversalClient
	prefix   string
	service  string
	topics   int
	messages int
	payload  int
	rate     float64 // messages per second; 0 means as fast as possible
	api      *apiPublisher
	records  bool // fill the data object with JSON records instead of padding
}

// encode appends message seq for sub, timestamped now.
func (p *publisher) encode(buf []byte, sub string, seq int) []byte {
	if p.records {
		return encodeRecordsMessage(buf, sub, seq, time.Now().UnixNano(), p.payload)
	}
	return encodeMessage(buf, sub, seq, time.Now().UnixNano(), p.payload)
}

// run publishes all messages and returns when the first and the last
// PUBLISH were sent.
func (p *publisher) run(ctx context.Context) (first, last time.Time, err error) {
	subs := make([]string, p.topics)
	for i := range subs {
		subs[i] = topicName(p.service, i)
	}
	first = time.Now()
	if p.rate > 0 {
		err = p.paced(ctx, subs, first)
	} else {
		err = p.burst(ctx, subs)
	}
	return first, time.Now(), err
}

func (p *publisher) burst(ctx context.Context, subs []string) error {
	if p.api != nil {
		return p.burstAPI(ctx, subs)
	}
	var buf []byte
	for start := 0; start < p.messages; start += publishBatch {
		pipe := p.rdb.Pipeline()
		for seq := start; seq < min(start+publishBatch, p.messages); seq++ {
			sub := subs[seq%p.topics]
			buf = p.encode(buf[:0], sub, seq)
			if broker.IsCluster(p.rdb) {
				pipe.SPublish(ctx, p.prefix+sub, string(buf))
			} else {
				pipe.Publish(ctx, p.prefix+sub, string(buf))
			}
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("wsbench: publish: %w", err)
		}
	}
	return nil
}

// burstAPI sends the messages through the HTTP API, api.batch per request.
func (p *publisher) burstAPI(ctx context.Context, subs []string) error {
	for start := 0; start < p.messages; start += p.api.batch {
		var msgs [][]byte
		for seq := start; seq < min(start+p.api.batch, p.messages); seq++ {
			msgs = append(msgs, p.encode(nil, subs[seq%p.topics], seq))
		}
		if err := p.api.send(ctx, msgs); err != nil {
			return err
		}
	}
	return nil
}

func (p *publisher) paced(ctx context.Context, subs []string, start time.Time) error {
	var buf []byte
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for seq := range p.messages {
		due := start.Add(time.Duration(float64(seq) / p.rate * float64(time.Second)))
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return fmt.Errorf("wsbench: publish: %w", ctx.Err())
			}
		}
		sub := subs[seq%p.topics]
		buf = p.encode(buf[:0], sub, seq)
		if p.api != nil {
			if err := p.api.send(ctx, [][]byte{buf}); err != nil {
				return err
			}
			continue
		}
		if err := broker.Publish(ctx, p.rdb, p.prefix+sub, string(buf)).Err(); err != nil {
			return fmt.Errorf("wsbench: publish: %w", err)
		}
	}
	return nil
}

// encodeMessage appends the published JSON
// {"subscription":sub,"data":{"seq":seq,"ts":ts,"pad":"xx..."}} to buf. The
// pad makes the data object payload bytes long when payload allows it.
func encodeMessage(buf []byte, sub string, seq int, ts int64, payload int) []byte {
	buf = append(buf, `{"subscription":`...)
	buf = strconv.AppendQuote(buf, sub)
	buf = append(buf, `,"data":`...)
	dataStart := len(buf)
	buf = append(buf, `{"seq":`...)
	buf = strconv.AppendInt(buf, int64(seq), 10)
	buf = append(buf, `,"ts":`...)
	buf = strconv.AppendInt(buf, ts, 10)
	buf = append(buf, `,"pad":"`...)
	const tail = `"}`
	for range payload - (len(buf) - dataStart) - len(tail) {
		buf = append(buf, 'x')
	}
	buf = append(buf, tail...)
	return append(buf, '}')
}
