package broker

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
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
	sharded  bool          // SSUBSCRIBE/SPUBLISH (a cluster master)
	cmd      redis.Cmdable // commands on this node: the probe, INFO
	sub      *redis.Client // dials the pub/sub connection
	probe    string        // the probe's channel, owned by this node
	fixed    []string
	interval time.Duration
	timeout  time.Duration
	log      *slog.Logger

	// mu guards the command queue. The handler is never called with mu held.
	mu   sync.Mutex
	cmds []command
	wake chan struct{}

	up      atomic.Bool
	lastErr atomic.Pointer[string]
	acks    chan uint64
}

func newShard(name string, sharded bool, cmd redis.Cmdable, sub *redis.Client, probe string, opts Options, log *slog.Logger) *shard {
	s := &shard{
		name:     name,
		sharded:  sharded,
		cmd:      cmd,
		sub:      sub,
		probe:    probe,
		fixed:    opts.Fixed,
		interval: opts.PingInterval,
		timeout:  opts.PingTimeout,
		log:      log,
		wake:     make(chan struct{}, 1),
		acks:     make(chan uint64, 16),
	}
	down := "not connected yet"
	s.lastErr.Store(&down)
	return s
}

// queue appends a command for sendCommands.
func (s *shard) queue(c command) {
	s.mu.Lock()
	s.cmds = append(s.cmds, c)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
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
func (s *shard) subscribe(ctx context.Context) *redis.PubSub {
	if s.sharded {
		return s.sub.SSubscribe(ctx, s.probe)
	}
	return s.sub.Subscribe(ctx, s.probe)
}

// serve runs one pub/sub connection until it fails.
func (s *shard) serve(ctx context.Context, h Handler) error {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ps := s.subscribe(sctx)
	defer ps.Close()
	stop := context.AfterFunc(sctx, func() { _ = ps.Close() })
	defer stop()

	// The probe channel's subscribe confirmation, within ping_timeout even
	// when Redis accepts the connection and then says nothing.
	if _, err := ps.ReceiveTimeout(sctx, s.timeout); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	// The fixed channels are subscribed before the shard turns ready, so a
	// command published to them while a session is open reaches it.
	for _, f := range s.fixed {
		if err := s.send(sctx, ps, command{op: opSubscribe, name: f}); err != nil {
			return err
		}
	}
	cuts, counted := s.bufferCuts(sctx) // to tell later whether Redis cut this connection for its buffer

	s.mu.Lock()
	s.cmds = nil
	s.mu.Unlock()

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel(nil)
	wg.Add(2)
	go func() { defer wg.Done(); s.sendCommands(sctx, ps, cancel) }()
	go func() { defer wg.Done(); s.runProbe(sctx, h, cancel) }()

	for {
		msg, err := ps.Receive(sctx)
		if err != nil {
			if cause := context.Cause(sctx); cause != nil {
				return cause
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
			if m.Channel == s.probe {
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
				if !s.isFixed(m.Channel) {
					h.Subscribed(m.Channel, false)
				}
			case "psubscribe":
				h.Subscribed(m.Channel, true)
			}
		}
	}
}

func (s *shard) isFixed(channel string) bool {
	for _, f := range s.fixed {
		if f == channel {
			return true
		}
	}
	return false
}

// send writes one command on ps.
func (s *shard) send(ctx context.Context, ps *redis.PubSub, c command) error {
	var err error
	switch {
	case c.op == opSubscribe && s.sharded:
		err = ps.SSubscribe(ctx, c.name)
	case c.op == opSubscribe:
		err = ps.Subscribe(ctx, c.name)
	case c.op == opUnsubscribe && s.sharded:
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
func (s *shard) runProbe(ctx context.Context, h Handler, fail context.CancelCauseFunc) {
	var seq uint64
	for {
		seq++
		if err := s.roundTrip(ctx, seq); err != nil {
			if ctx.Err() == nil {
				fail(err)
			}
			return
		}
		if s.up.CompareAndSwap(false, true) {
			s.log.Info("redis connected; delivery probe passing", "probe_channel", s.probe)
			h.Up(s.name)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.interval):
		}
	}
}

func (s *shard) roundTrip(ctx context.Context, seq uint64) error {
	deadline := time.NewTimer(s.timeout)
	defer deadline.Stop()
	pctx, cancel := context.WithTimeout(ctx, s.timeout)
	var err error
	if s.sharded {
		err = s.cmd.SPublish(pctx, s.probe, strconv.FormatUint(seq, 10)).Err()
	} else {
		err = s.cmd.Publish(pctx, s.probe, strconv.FormatUint(seq, 10)).Err()
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
