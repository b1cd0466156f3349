package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

const (
	// handshakeTimeout bounds one client's dial plus subscribe round trip.
	handshakeTimeout = 30 * time.Second
	// maxHandshakeFrames bounds the frames read while waiting for the
	// subscribe reply.
	maxHandshakeFrames = 16
	// pollInterval is how often waitDelivered looks at the progress counter.
	pollInterval = 20 * time.Millisecond
)

// client is one WebSocket connection subscribed to one topic. After connect
// its fields are written only by its own goroutine and read by the fleet
// after that goroutine has exited.
type client struct {
	idx     int
	sub     string
	conn    *websocket.Conn
	track   *seqTracker
	lat     []time.Duration
	lastNS  int64
	dropped bool
}

// fleet owns all clients: it connects them, runs one read loop per
// connection and merges their records at the end.
type fleet struct {
	cfg       config
	ctx       context.Context
	stop      context.CancelFunc
	clients   []*client
	ready     chan error
	wg        sync.WaitGroup
	delivered atomic.Int64
	pending   atomic.Int64
	complete  chan struct{}
	closing   atomic.Bool
	stopOnce  sync.Once
	dial      []*websocket.DialOptions // client i dials with dial[i%len(dial)]
	wire      atomic.Int64             // bytes the clients have read from their sockets
}

func newFleet(ctx context.Context, cfg config) (*fleet, error) {
	addrs, err := sourceAddrs(cfg.url, cfg.clients, cfg.sourceAddrs)
	if err != nil {
		return nil, err
	}
	f := &fleet{cfg: cfg, ready: make(chan error, cfg.clients), complete: make(chan struct{})}
	f.dial = dialOptions(addrs, compressionModes[cfg.compression], &f.wire)
	f.ctx, f.stop = context.WithCancel(ctx)
	f.clients = make([]*client, cfg.clients)
	for i := range f.clients {
		topic := i % cfg.topics
		tr, sub := newSeqTracker(topic, cfg.topics, cfg.messages), topicName(cfg.service, topic)
		if cfg.auth.wildcard { // every message, of every topic
			tr, sub = newSeqTracker(0, 1, cfg.messages), cfg.service+".*"
		}
		f.clients[i] = &client{
			idx:   i,
			sub:   sub,
			track: tr,
			lat:   make([]time.Duration, 0, tr.expected),
		}
		if tr.expected > 0 {
			f.pending.Add(1)
		}
	}
	if f.pending.Load() == 0 {
		close(f.complete)
	}
	return f, nil
}

// topicName is the subscription name of topic i.
func topicName(service string, i int) string {
	return fmt.Sprintf("%s.t%d", service, i)
}

// idleTopicName is the name of client i's k-th extra subscription, one no
// message is published to.
func idleTopicName(service string, i, k int) string {
	return fmt.Sprintf("%s.idle%d.%d", service, i, k)
}

// connect starts every client and returns once all of them are subscribed.
// Any client that fails to connect or subscribe fails the run.
func (f *fleet) connect() error {
	sem := make(chan struct{}, f.cfg.dialConcurrency)
	start := time.Now()
	for _, c := range f.clients {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			err := f.open(c, start, sem)
			f.ready <- err
			if err == nil {
				f.readLoop(c)
			}
		}()
	}
	var failed int
	var firstErr error
	for range f.clients {
		select {
		case err := <-f.ready:
			if err != nil {
				failed++
				if firstErr == nil {
					firstErr = err
				}
			}
		case <-f.ctx.Done():
			return fmt.Errorf("wsbench: connect and subscribe: %w", f.ctx.Err())
		}
	}
	if failed > 0 {
		return fmt.Errorf("wsbench: %d of %d clients failed to connect or subscribe: %w", failed, len(f.clients), firstErr)
	}
	return nil
}

// open waits for the client's ramp slot and a dial slot, then dials and
// subscribes. On success the connection closes when the fleet stops.
func (f *fleet) open(c *client, start time.Time, sem chan struct{}) error {
	if f.cfg.ramp > 0 {
		at := start.Add(time.Duration(int64(f.cfg.ramp) * int64(c.idx) / int64(len(f.clients))))
		t := time.NewTimer(time.Until(at))
		select {
		case <-t.C:
		case <-f.ctx.Done():
			t.Stop()
			return f.ctx.Err()
		}
	}
	select {
	case sem <- struct{}{}:
	case <-f.ctx.Done():
		return f.ctx.Err()
	}
	defer func() { <-sem }()

	ctx, cancel := context.WithTimeout(f.ctx, handshakeTimeout)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, f.cfg.url, f.dial[c.idx%len(f.dial)])
	if err != nil {
		return fmt.Errorf("wsbench: client %d: dial: %w", c.idx, err)
	}
	conn.SetReadLimit(int64(f.cfg.payload) + 64<<10)
	var extra map[string]string
	if f.cfg.memberField != "" {
		extra = map[string]string{f.cfg.memberField: fmt.Sprintf("c%d", c.idx)}
	}
	if err := f.cfg.auth.authenticate(ctx, conn, c.idx); err != nil {
		conn.CloseNow()
		return fmt.Errorf("wsbench: client %d: %w", c.idx, err)
	}
	if err := subscribe(ctx, conn, c.sub, extra); err != nil {
		conn.CloseNow()
		return fmt.Errorf("wsbench: client %d: %w", c.idx, err)
	}
	for k := 1; k < f.cfg.subs; k++ {
		if err := subscribe(ctx, conn, idleTopicName(f.cfg.service, c.idx, k), extra); err != nil {
			conn.CloseNow()
			return fmt.Errorf("wsbench: client %d: %w", c.idx, err)
		}
	}
	c.conn = conn
	context.AfterFunc(f.ctx, func() { conn.CloseNow() })
	return nil
}

// subscribe sends the subscribe event, with the extra fields, and waits
// for its reply.
func subscribe(ctx context.Context, conn *websocket.Conn, sub string, extra map[string]string) error {
	ev := map[string]string{"event": "subscribe", "subscription": sub}
	for k, v := range extra {
		ev[k] = v
	}
	req, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", sub, err)
	}
	if err := conn.Write(ctx, websocket.MessageText, req); err != nil {
		return fmt.Errorf("subscribe %s: %w", sub, err)
	}
	for range maxHandshakeFrames {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return fmt.Errorf("subscribe %s: %w", sub, err)
		}
		var rep struct {
			Event        string `json:"event"`
			Subscription string `json:"subscription"`
			Status       string `json:"status"`
			Error        string `json:"error"`
		}
		if json.Unmarshal(b, &rep) != nil || rep.Event != "subscribe" || rep.Subscription != sub {
			continue
		}
		if rep.Status != "ok" {
			return fmt.Errorf("subscribe %s: server answered %q", sub, rep.Error)
		}
		return nil
	}
	return fmt.Errorf("subscribe %s: no reply within %d frames", sub, maxHandshakeFrames)
}

// readLoop records every delivery until the connection closes. It reads
// with a context without Done, so the library adds no per-read timer; the
// fleet stops it by closing the connection.
func (f *fleet) readLoop(c *client) {
	buf := make([]byte, 0, 256+f.cfg.payload)
	for {
		typ, r, err := c.conn.Reader(context.Background())
		if err == nil {
			buf, err = readInto(r, buf[:0])
		}
		if err != nil {
			c.dropped = !f.closing.Load()
			return
		}
		now := time.Now().UnixNano()
		if typ != websocket.MessageText {
			continue
		}
		seq, ts, ok := parseDelivery(buf)
		if !ok || c.track.record(seq) != recordNew {
			continue
		}
		c.lat = append(c.lat, time.Duration(max(now-ts, 0)))
		c.lastNS = now
		f.delivered.Add(1)
		if c.track.unique == c.track.expected && f.pending.Add(-1) == 0 {
			close(f.complete)
		}
	}
}

// readInto appends everything r yields to buf.
func readInto(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, 512)
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// waitDelivered returns when every client has all its expected messages, or
// when no new delivery arrived for settle.
func (f *fleet) waitDelivered(ctx context.Context, settle time.Duration) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	last, quietSince := f.delivered.Load(), time.Now()
	for {
		select {
		case <-f.complete:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("wsbench: waiting for deliveries: %w", ctx.Err())
		case now := <-tick.C:
			if d := f.delivered.Load(); d != last {
				last, quietSince = d, now
			} else if now.Sub(quietSince) >= settle {
				return nil
			}
		}
	}
}

// shutdown closes every connection and waits for all client goroutines.
// It is idempotent.
func (f *fleet) shutdown() {
	f.stopOnce.Do(func() {
		f.closing.Store(true)
		f.stop()
		f.wg.Wait()
	})
}

// tally merges the clients' records; call it after shutdown.
func (f *fleet) tally() tally {
	var t tally
	n := 0
	for _, c := range f.clients {
		n += len(c.lat)
	}
	t.latencies = make([]time.Duration, 0, n)
	for _, c := range f.clients {
		t.add(c.track)
		t.latencies = append(t.latencies, c.lat...)
		t.lastNS = max(t.lastNS, c.lastNS)
		if c.dropped {
			t.dropped++
		}
	}
	return t
}
