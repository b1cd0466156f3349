package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/broker"

	"github.com/wsrouter/wsrouter/history"
)

// dropConfig is the drop scenario: every client's socket is killed every
// ~dropEvery (jittered) and reconnected after ~dropFor, while messages go
// out to one topic at rate per second for duration. With history the
// messages are published through the history script and clients resubscribe
// with since.
type dropConfig struct {
	dropEvery   time.Duration
	dropFor     time.Duration
	duration    time.Duration
	history     bool
	historySize int
	historyTTL  time.Duration
}

// dropResult is one drop run's outcome, written as one JSON line.
type dropResult struct {
	Server         string  `json:"server"`
	Scenario       string  `json:"scenario"`
	History        bool    `json:"history"`
	Clients        int     `json:"clients"`
	Messages       int     `json:"messages"`
	Rate           float64 `json:"rate"`
	DurationS      float64 `json:"duration_s"`
	Drops          int64   `json:"drops"`
	Expected       int64   `json:"expected_deliveries"`
	Delivered      int64   `json:"delivered"`
	DeliveredPct   float64 `json:"delivered_pct"`
	Duplicated     int64   `json:"duplicated"`
	Reordered      int64   `json:"reordered"`
	Recovered      int64   `json:"recovered"`
	NotRecovered   int64   `json:"not_recovered"`
	WorstClientPct float64 `json:"worst_client_pct"`
	FullClients    int     `json:"clients_with_every_message"`
}

// dropClient is one client of the drop scenario; its counters are written
// only by its own goroutine.
type dropClient struct {
	seen                        []bool
	last                        int64
	delivered, dup, reorder     int64
	drops, recovered, unrecover int64
	offset                      string
}

// runDrop runs the drop scenario and writes its result.
func runDrop(ctx context.Context, cfg config, dc dropConfig, rdb redis.UniversalClient, stdout io.Writer) error {
	messages := int(dc.duration.Seconds() * cfg.rate)
	if messages < 1 {
		return fmt.Errorf("wsbench: -drop needs -rate and -duration giving at least one message")
	}
	sub := topicName(cfg.service, 0)
	clients := make([]*dropClient, cfg.clients)
	for i := range clients {
		clients[i] = &dropClient{seen: make([]bool, messages), last: -1}
	}
	publishing := make(chan struct{}) // closed when the first message is due
	runCtx, stop := context.WithCancel(ctx)
	defer stop()

	// Every client subscribes before the first message.
	var ready, wg sync.WaitGroup
	ready.Add(len(clients))
	sem := make(chan struct{}, cfg.dialConcurrency)
	for i, c := range clients {
		wg.Go(func() { c.run(runCtx, cfg, dc, sub, i, sem, &ready, publishing) })
	}
	ready.Wait()
	if runCtx.Err() != nil {
		return fmt.Errorf("wsbench: drop: %w", runCtx.Err())
	}

	store := history.New(rdb, cfg.prefix, history.Options{Sharded: broker.IsCluster(rdb)})
	set := history.Settings{Size: dc.historySize, TTL: dc.historyTTL}
	close(publishing)
	start := time.Now()
	var buf []byte
	for seq := range messages {
		due := start.Add(time.Duration(float64(seq) / cfg.rate * float64(time.Second)))
		select {
		case <-time.After(time.Until(due)):
		case <-ctx.Done():
			return fmt.Errorf("wsbench: drop: publish: %w", ctx.Err())
		}
		buf = encodeMessage(buf[:0], sub, seq, time.Now().UnixNano(), cfg.payload)
		var err error
		if dc.history {
			_, err = store.Publish(ctx, sub, buf, set)
		} else {
			err = broker.Publish(ctx, rdb, cfg.prefix+sub, buf).Err()
		}
		if err != nil {
			return fmt.Errorf("wsbench: drop: publish: %w", err)
		}
	}
	// Clients away at the end come back and catch up; then stop them.
	time.Sleep(dc.dropFor*2 + cfg.settle)
	stop()
	wg.Wait()

	r := dropResult{Server: cfg.label, Scenario: cfg.scenario, History: dc.history, Clients: cfg.clients,
		Messages: messages, Rate: cfg.rate, DurationS: dc.duration.Seconds(), WorstClientPct: 100}
	for _, c := range clients {
		r.Drops += c.drops
		r.Expected += int64(messages)
		r.Delivered += c.delivered
		r.Duplicated += c.dup
		r.Reordered += c.reorder
		r.Recovered += c.recovered
		r.NotRecovered += c.unrecover
		pct := 100 * float64(c.delivered) / float64(messages)
		r.WorstClientPct = min(r.WorstClientPct, pct)
		if c.delivered == int64(messages) {
			r.FullClients++
		}
	}
	r.DeliveredPct = 100 * float64(r.Delivered) / float64(r.Expected)
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if !cfg.jsonOnly {
		fmt.Fprintf(stdout, "drop scenario, history %v: %d clients, %d messages at %g/s, %d drops\n",
			r.History, r.Clients, r.Messages, r.Rate, r.Drops)
		fmt.Fprintf(stdout, "delivered %d of %d (%.2f%%; worst client %.2f%%; %d of %d clients got every message), %d duplicated, %d reordered, recoveries %d ok / %d not\n",
			r.Delivered, r.Expected, r.DeliveredPct, r.WorstClientPct, r.FullClients, r.Clients, r.Duplicated, r.Reordered, r.Recovered, r.NotRecovered)
	}
	_, err = fmt.Fprintln(stdout, string(b))
	return err
}

// run connects, reads until its next drop, stays away, and reconnects,
// until ctx ends. It marks ready once its first subscribe succeeded.
func (c *dropClient) run(ctx context.Context, cfg config, dc dropConfig, sub string, idx int,
	sem chan struct{}, ready *sync.WaitGroup, publishing <-chan struct{}) {
	rng := rand.New(rand.NewPCG(uint64(idx), uint64(time.Now().UnixNano())))
	first := true
	defer func() {
		if first {
			ready.Done()
		}
	}()
	jitter := func(d time.Duration) time.Duration { return d/2 + time.Duration(rng.Int64N(int64(d))) }
	for ctx.Err() == nil {
		sem <- struct{}{}
		conn, err := c.connect(ctx, cfg, sub)
		<-sem
		if err != nil {
			if ctx.Err() == nil && !first {
				time.Sleep(100 * time.Millisecond) // the server is busy: try again
				continue
			}
			return
		}
		if first {
			first = false
			ready.Done()
			select { // the first drop is counted from the first message
			case <-publishing:
			case <-ctx.Done():
			}
		}
		killAt := time.Now().Add(jitter(dc.dropEvery))
		kill := time.AfterFunc(time.Until(killAt), func() { conn.CloseNow() })
		stopOnEnd := context.AfterFunc(ctx, func() { conn.CloseNow() })
		c.read(conn)
		kill.Stop()
		stopOnEnd()
		conn.CloseNow()
		if ctx.Err() != nil {
			return
		}
		c.drops++
		select {
		case <-time.After(jitter(dc.dropFor)):
		case <-ctx.Done():
			return
		}
	}
}

// connect dials and subscribes, with since when the client has an offset.
func (c *dropClient) connect(ctx context.Context, cfg config, sub string) (*websocket.Conn, error) {
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	conn, _, err := websocket.Dial(hctx, cfg.url, &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(int64(cfg.payload) + 64<<10)
	ev := map[string]string{"event": "subscribe", "subscription": sub}
	if c.offset != "" {
		ev["since"] = c.offset
	}
	req, _ := json.Marshal(ev)
	if err := conn.Write(hctx, websocket.MessageText, req); err != nil {
		conn.CloseNow()
		return nil, err
	}
	for range maxHandshakeFrames {
		_, b, err := conn.Read(hctx)
		if err != nil {
			conn.CloseNow()
			return nil, err
		}
		var rep struct {
			Event, Status, Offset string
			Recovered             *bool
		}
		if json.Unmarshal(b, &rep) != nil || rep.Event != "subscribe" {
			c.record(b)
			continue
		}
		if rep.Status != "ok" {
			conn.CloseNow()
			return nil, fmt.Errorf("subscribe: %s", b)
		}
		if rep.Recovered != nil {
			if *rep.Recovered {
				c.recovered++
			} else {
				c.unrecover++
			}
		}
		if rep.Offset != "" && (rep.Recovered == nil || !*rep.Recovered) {
			c.offset = rep.Offset
		}
		return conn, nil
	}
	conn.CloseNow()
	return nil, fmt.Errorf("subscribe: no reply within %d frames", maxHandshakeFrames)
}

// read records deliveries until the connection ends.
func (c *dropClient) read(conn *websocket.Conn) {
	for {
		_, b, err := conn.Read(context.Background())
		if err != nil {
			return
		}
		c.record(b)
	}
}

// record counts one delivery: new, duplicate, or out of order.
func (c *dropClient) record(b []byte) {
	seq, _, ok := parseDelivery(b)
	if !ok || seq < 0 || seq >= int64(len(c.seen)) {
		return
	}
	var m struct{ Offset string }
	if json.Unmarshal(b, &m) == nil && m.Offset != "" {
		c.offset = m.Offset
	}
	if c.seen[seq] {
		c.dup++
		return
	}
	c.seen[seq] = true
	c.delivered++
	if seq < c.last {
		c.reorder++
	}
	c.last = max(c.last, seq)
}
