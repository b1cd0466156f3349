package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Bounds of one client's waits; none of them can hold the run up for long.
const (
	dialTimeout  = 5 * time.Second
	replyTimeout = 5 * time.Second
	drainTimeout = 3 * time.Second
	closeTimeout = 3 * time.Second
	pollInterval = 10 * time.Millisecond
)

// frame is what a client reads of a server frame.
type frame struct {
	Event        string `json:"event"`
	Status       string `json:"status"`
	Error        string `json:"error"`
	Subscription string `json:"subscription"`
	Data         struct {
		Seq int64 `json:"seq"`
	} `json:"data"`
}

// clientSub is one subscription of a client and its check.
type clientSub struct {
	topic    int
	name     string
	live     bool // its subscribe ok has arrived
	leaving  bool // unsubscribe sent: no more checks
	left     bool // unsubscribe ok arrived: any further message is late
	seq      sequence
	finished bool
}

// client is one WebSocket connection of the soak: it subscribes, checks
// every delivery against the publisher's sequence numbers, and leaves.
type client struct {
	s       *soaker
	conn    *websocket.Conn
	replies chan frame
	done    chan struct{} // the reader ended
	mu      sync.Mutex
	subs    map[string]*clientSub
	closing bool
}

// life runs one client from dial to close; stay is how long it stays
// subscribed unless ctx ends first.
func (s *soaker) life(ctx context.Context, rng *rand.Rand) {
	dctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	conn, _, err := websocket.Dial(dctx, s.opts.url, nil)
	cancel()
	if err != nil {
		s.fail("dial: %v", err)
		sleepCtx(ctx, time.Second) // do not spin on a router that is down
		return
	}
	s.res.connections.Add(1)
	conn.SetReadLimit(1 << 20)
	c := &client{s: s, conn: conn, replies: make(chan frame, 8), done: make(chan struct{}), subs: map[string]*clientSub{}}
	go c.read()
	defer c.close()
	defer c.drainAll() // on every way out: each subscription's check ends

	for _, topic := range rng.Perm(s.opts.topics)[:min(1+rng.IntN(3), s.opts.topics)] {
		if !c.subscribe(topic) {
			return
		}
	}
	stay := s.opts.minStay + time.Duration(rng.Int64N(int64(s.opts.maxStay-s.opts.minStay)+1))
	if rng.IntN(4) == 0 { // a quarter of the clients also unsubscribe one topic midway
		if !sleepCtx(ctx, stay/2) || !c.unsubscribeOne() {
			return
		}
		stay -= stay / 2
	}
	sleepCtx(ctx, stay)
}

// read handles every server frame until the connection ends.
func (c *client) read() {
	defer close(c.done)
	for {
		_, b, err := c.conn.Read(context.Background())
		if err != nil {
			c.mu.Lock()
			closing := c.closing
			c.mu.Unlock()
			if !closing {
				c.s.fail("connection ended: %v", err)
			}
			return
		}
		var f frame
		if err := json.Unmarshal(b, &f); err != nil {
			c.s.fail("frame is not JSON: %q", b)
			continue
		}
		switch {
		case f.Event == "message" && f.Status == "":
			c.deliver(f, b)
			continue
		case f.Event == "subscribe":
			c.subscribed(f)
		}
		select {
		case c.replies <- f:
		default:
			c.s.fail("unexpected frame: %q", b)
		}
	}
}

// deliver checks one delivery.
func (c *client) deliver(f frame, raw []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sub := c.subs[f.Subscription]
	switch {
	case sub == nil || !sub.live:
		c.s.fail("delivery before its subscribe ok: %q", raw)
	case sub.left:
		c.s.res.late.Add(1)
	case sub.leaving:
	default:
		sub.seq.add(f.Data.Seq)
		c.s.res.delivered.Add(1)
	}
}

// await returns the next reply, or false after replyTimeout or when the
// connection ended.
func (c *client) await(event, name string) (frame, bool) {
	select {
	case f := <-c.replies:
		if f.Event != event || f.Subscription != name {
			c.s.fail("reply %+v, want %s of %s", f, event, name)
			return f, false
		}
		if f.Status != "ok" {
			c.s.fail("%s %s: %s", event, name, f.Error)
			return f, false
		}
		return f, true
	case <-c.done:
		return frame{}, false
	case <-time.After(replyTimeout):
		c.s.fail("no %s reply for %s within %s", event, name, replyTimeout)
		return frame{}, false
	}
}

func (c *client) send(v string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), replyTimeout)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(v)); err != nil {
		c.s.fail("write: %v", err)
		return false
	}
	return true
}

// subscribe subscribes to topic and waits for the ok.
func (c *client) subscribe(topic int) bool {
	name := topicName(c.s.opts.service, topic)
	sub := &clientSub{topic: topic, name: name}
	c.mu.Lock()
	c.subs[name] = sub
	c.mu.Unlock()
	if !c.send(fmt.Sprintf(`{"event":"subscribe","subscription":%q}`, name)) {
		return false
	}
	if _, ok := c.await("subscribe", name); !ok {
		return false
	}
	c.s.res.subscribes.Add(1)
	return true
}

// subscribed marks a subscription live when its ok arrives, on the reader,
// before any delivery for it is read: every message issued from now on
// must arrive.
func (c *client) subscribed(f frame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if sub := c.subs[f.Subscription]; sub != nil && f.Status == "ok" && !sub.live {
		sub.live = true
		sub.seq.expectFrom(c.s.pub.issued[sub.topic].Load() + 1)
	}
}

// unsubscribeOne drains and unsubscribes one live subscription.
func (c *client) unsubscribeOne() bool {
	c.mu.Lock()
	var sub *clientSub
	for _, s := range c.subs {
		if s.live && !s.leaving {
			sub = s
			break
		}
	}
	c.mu.Unlock()
	if sub == nil {
		return true
	}
	c.drain(sub)
	if !c.send(fmt.Sprintf(`{"event":"unsubscribe","subscription":%q}`, sub.name)) {
		return false
	}
	if _, ok := c.await("unsubscribe", sub.name); !ok {
		return false
	}
	c.mu.Lock()
	sub.left = true
	c.mu.Unlock()
	c.s.res.unsubscribes.Add(1)
	return true
}

// drainAll drains every live subscription before the client leaves.
func (c *client) drainAll() {
	c.mu.Lock()
	var subs []*clientSub
	for _, s := range c.subs {
		if s.live && !s.leaving {
			subs = append(subs, s)
		}
	}
	c.mu.Unlock()
	for _, sub := range subs {
		c.drain(sub)
	}
}

// drain waits until sub has every message acknowledged by Redis so far,
// at most drainTimeout, then ends its check.
func (c *client) drain(sub *clientSub) {
	last := c.s.pub.acked[sub.topic].Load()
	deadline := time.Now().Add(drainTimeout)
	for {
		c.mu.Lock()
		done := sub.seq.caughtUp(last)
		c.mu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
		select {
		case <-c.done:
			deadline = time.Now() // no more will come
		case <-time.After(pollInterval):
		}
	}
	c.mu.Lock()
	sub.leaving = true
	c.finish(sub, last)
	c.mu.Unlock()
}

// finish adds sub's figures to the run's; c.mu is held.
func (c *client) finish(sub *clientSub, last int64) {
	if sub.finished {
		return
	}
	sub.finished = true
	lost := sub.seq.finish(last)
	r := &c.s.res
	r.lost.Add(lost)
	r.dups.Add(sub.seq.dups)
	r.reorders.Add(sub.seq.reorders)
	if lost > 0 || sub.seq.dups > 0 || sub.seq.reorders > 0 {
		c.s.fail("%s: lost %d, duplicated %d, reordered %d (received %d, up to %d)", sub.name, lost, sub.seq.dups, sub.seq.reorders, sub.seq.received, last)
	}
}

// close ends the connection with a close handshake and waits for the reader.
func (c *client) close() {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := c.conn.Close(websocket.StatusNormalClosure, ""); err != nil && !errors.Is(err, context.Canceled) {
			c.conn.CloseNow()
		}
	}()
	select {
	case <-done:
	case <-ctx.Done():
		c.conn.CloseNow()
		<-done
	}
	<-c.done
}

// sleepCtx sleeps for d; it reports false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
