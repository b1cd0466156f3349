package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// pubsubReadBuffer is the read buffer of a pub/sub connection: large
// publications are read in few system calls, so that Redis's output buffer
// for this connection empties as fast as Redis writes it.
const pubsubReadBuffer = 1 << 20

// op is the kind of a queued pub/sub command.
type op uint8

const (
	opSubscribe op = iota
	opUnsubscribe
	opPSubscribe
	opPUnsubscribe
)

// command is one queued (un)subscribe.
type command struct {
	op   op
	name string
}

// shard is one pub/sub connection to one Redis node: the commands queued
// for it, its reader, and its delivery probe.
type shard struct {
	name     string
	cmd      *redis.Client // commands on this node: the probe, INFO, ROLE
	sub      *redis.Client // dials the pub/sub connection
	interval time.Duration
	timeout  time.Duration
	log      *slog.Logger
	hooks    shardHooks

	// mu guards the command queue, the connection number and the asked
	// unsubscribes. The handler is never called with mu held.
	mu    sync.Mutex
	cmds  []command
	gen   uint64         // connections made so far; commands queued now go out on connection gen
	asked map[string]int // sharded: SUNSUBSCRIBEs sent and not yet confirmed
	wake  chan struct{}

	up      atomic.Bool
	lastErr atomic.Pointer[string]
	acks    chan uint64
}

// shardHooks is what differs between a single Redis and a cluster master.
type shardHooks struct {
	// sharded selects SSUBSCRIBE/SUNSUBSCRIBE/SPUBLISH.
	sharded bool
	// probe returns the delivery probe's channel for a new connection: on
	// a cluster it must hash to a slot this node owns.
	probe func() string
	// fixed returns the channels a new connection (number gen) subscribes
	// before anything queued.
	fixed func(gen uint64) []string
	// lost is told (sharded only) of a channel Redis dropped without being
	// asked, and of a MOVED reply (channel "", slot set); nil ignores them.
	lost func(channel string, slot int)
}

func newShard(name string, cmd *redis.Client, sub *redis.Client, opts Options, log *slog.Logger, hooks shardHooks) *shard {
	s := &shard{
		name:     name,
		cmd:      cmd,
		sub:      sub,
		interval: opts.PingInterval,
		timeout:  opts.PingTimeout,
		log:      log,
		hooks:    hooks,
		asked:    map[string]int{},
		wake:     make(chan struct{}, 1),
		acks:     make(chan uint64, 16),
	}
	down := "not connected yet"
	s.lastErr.Store(&down)
	return s
}

// queue appends a command for sendCommands and returns the number of the
// connection it is meant for.
func (s *shard) queue(c command) uint64 {
	s.mu.Lock()
	s.cmds = append(s.cmds, c)
	gen := s.gen
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return gen
}

// connection returns the number of the current (or last) connection.
func (s *shard) connection() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen
}

// state reports the shard's readiness.
func (s *shard) state() ShardState {
	if s.up.Load() {
		return ShardState{Name: s.name, Up: true}
	}
	return ShardState{Name: s.name, Err: *s.lastErr.Load()}
}

// loop connects, serves until the connection is lost, and reconnects with
// backoff, until ctx ends.
func (s *shard) loop(ctx context.Context, h Handler) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		started := time.Now()
		err := s.serve(ctx, h)
		s.markDown(err, h)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > 30*time.Second {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// subscribe opens the pub/sub connection with the probe channel.
func (s *shard) subscribe(ctx context.Context, probe string) *redis.PubSub {
	if s.hooks.sharded {
		return s.sub.SSubscribe(ctx, probe)
	}
	return s.sub.Subscribe(ctx, probe)
}

// serve runs one pub/sub connection until it fails.
func (s *shard) serve(ctx context.Context, h Handler) error {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	probe := s.hooks.probe()
	ps := s.subscribe(sctx, probe)
	defer ps.Close()
	stop := context.AfterFunc(sctx, func() { _ = ps.Close() })
	defer stop()

	// The probe channel's subscribe confirmation, within ping_timeout even
	// when Redis accepts the connection and then says nothing.
	if _, err := ps.ReceiveTimeout(sctx, s.timeout); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	cuts, counted := s.bufferCuts(sctx) // to tell later whether Redis cut this connection for its buffer

	// What was queued for an earlier connection is dropped: the handler
	// was told that connection is down, and subscribes again.
	s.mu.Lock()
	s.cmds = nil
	s.gen++
	gen := s.gen
	clear(s.asked)
	s.mu.Unlock()
	// The fixed channels are subscribed before the shard turns ready, so a
	// command published to them while a session is open reaches it.
	fixed := s.hooks.fixed(gen)
	for _, f := range fixed {
		if err := s.send(sctx, ps, command{op: opSubscribe, name: f}); err != nil {
			return err
		}
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel(nil)
	wg.Add(2)
	go func() { defer wg.Done(); s.sendCommands(sctx, ps, cancel) }()
	go func() { defer wg.Done(); s.runProbe(sctx, probe, h, cancel) }()

	for {
		msg, err := ps.Receive(sctx)
		if err != nil {
			if cause := context.Cause(sctx); cause != nil {
				return cause
			}
			if slot, ok := movedSlot(err); ok && s.hooks.sharded {
				// A subscribe sent to a master that no longer owns the
				// slot; the connection itself is fine.
				s.log.Info("redis cluster: slot moved", "slot", slot, "err", err)
				if s.hooks.lost != nil {
					s.hooks.lost("", slot)
				}
				continue
			}
			if closedByRedis(err) {
				if why := s.whyCut(ctx, cuts, counted); why != "" {
					s.log.Warn("redis closed the pub/sub connection", "reason", why,
						"fix", "raise client-output-buffer-limit pubsub in Redis (docs/OPERATIONS.md)", "err", err)
				}
			}
			return err
		}
		switch m := msg.(type) {
		case *redis.Message:
			if m.Channel == probe {
				if seq, err := strconv.ParseUint(m.Payload, 10, 64); err == nil {
					select {
					case s.acks <- seq:
					default:
					}
				}
				continue
			}
			h.Message(m)
		case *redis.Subscription:
			switch m.Kind {
			case "subscribe", "ssubscribe":
				if m.Channel != probe && !slices.Contains(fixed, m.Channel) {
					h.Subscribed(m.Channel, false)
				}
			case "psubscribe":
				h.Subscribed(m.Channel, true)
			case "sunsubscribe":
				s.unsubscribed(m.Channel)
			}
		}
	}
}

// unsubscribed takes an sunsubscribe: the answer to one this shard sent,
// or Redis dropping a channel whose slot left this master.
func (s *shard) unsubscribed(channel string) {
	s.mu.Lock()
	asked := s.asked[channel] > 0
	if asked {
		s.asked[channel]--
		if s.asked[channel] == 0 {
			delete(s.asked, channel)
		}
	}
	s.mu.Unlock()
	if !asked && s.hooks.lost != nil {
		s.log.Info("redis cluster: channel dropped by its master (slot moved)", "channel", channel)
		s.hooks.lost(channel, -1)
	}
}

// send writes one command on ps.
func (s *shard) send(ctx context.Context, ps *redis.PubSub, c command) error {
	var err error
	sharded := s.hooks.sharded
	switch {
	case c.op == opSubscribe && sharded:
		err = ps.SSubscribe(ctx, c.name)
	case c.op == opSubscribe:
		err = ps.Subscribe(ctx, c.name)
	case c.op == opUnsubscribe && sharded:
		s.mu.Lock()
		s.asked[c.name]++
		s.mu.Unlock()
		err = ps.SUnsubscribe(ctx, c.name)
	case c.op == opUnsubscribe:
		err = ps.Unsubscribe(ctx, c.name)
	case c.op == opPSubscribe:
		err = ps.PSubscribe(ctx, c.name)
	case c.op == opPUnsubscribe:
		err = ps.PUnsubscribe(ctx, c.name)
	}
	if err != nil {
		return fmt.Errorf("send (un)subscribe %s: %w", c.name, err)
	}
	return nil
}

// sendCommands writes queued commands in order.
func (s *shard) sendCommands(ctx context.Context, ps *redis.PubSub, fail context.CancelCauseFunc) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		}
		s.mu.Lock()
		cmds := s.cmds
		s.cmds = nil
		s.mu.Unlock()
		for _, c := range cmds {
			if err := s.send(ctx, ps, c); err != nil {
				fail(err)
				return
			}
		}
	}
}

// runProbe publishes to the probe channel every ping interval and fails
// the connection when the message does not come back through the pub/sub
// connection within the ping timeout.
func (s *shard) runProbe(ctx context.Context, probe string, h Handler, fail context.CancelCauseFunc) {
	var seq uint64
	for {
		seq++
		if err := s.roundTrip(ctx, probe, seq); err != nil {
			if ctx.Err() == nil {
				fail(err)
			}
			return
		}
		if s.up.CompareAndSwap(false, true) {
			s.log.Info("redis connected; delivery probe passing", "probe_channel", probe)
			h.Up(s.name)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.interval):
		}
	}
}

func (s *shard) roundTrip(ctx context.Context, probe string, seq uint64) error {
	deadline := time.NewTimer(s.timeout)
	defer deadline.Stop()
	pctx, cancel := context.WithTimeout(ctx, s.timeout)
	var err error
	if s.hooks.sharded {
		err = s.cmd.SPublish(pctx, probe, strconv.FormatUint(seq, 10)).Err()
	} else {
		err = s.cmd.Publish(pctx, probe, strconv.FormatUint(seq, 10)).Err()
	}
	cancel()
	if err != nil {
		return fmt.Errorf("delivery probe: publish: %w", err)
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case got := <-s.acks:
			if got == seq {
				return nil
			}
		case <-deadline.C:
			return fmt.Errorf("delivery probe: no message back through pub/sub within ping_timeout (%s)", s.timeout)
		}
	}
}

// markDown records why the connection ended, drops the queued commands and
// tells the handler.
func (s *shard) markDown(err error, h Handler) {
	msg := "connection lost"
	if err != nil {
		msg = err.Error()
	}
	s.lastErr.Store(&msg)
	s.mu.Lock()
	s.cmds = nil
	s.mu.Unlock()
	s.up.Store(false)
	h.Down(s.name, err)
}

// movedSlot reads the slot of a MOVED error reply.
func movedSlot(err error) (int, bool) {
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return 0, false
	}
	rest, ok := strings.CutPrefix(rerr.Error(), "MOVED ")
	if !ok {
		return 0, false
	}
	slot, _, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(slot)
	return n, err == nil
}
