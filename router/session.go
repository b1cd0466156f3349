package router

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/wsrouter/wsrouter/internal/clock"
	"github.com/wsrouter/wsrouter/metrics"
)

// maxQueuedEvents and maxQueuedEventBytes bound the client events waiting
// for the processor, in number and in bytes; a client that sends more than
// this while its events wait on callbacks is closed. Events over the rate
// limit are queued too, so that their answers keep their order, but only
// their name is kept. A single frame larger than the byte bound is taken
// when nothing else waits.
const (
	maxQueuedEvents     = 1024
	maxQueuedEventBytes = 4 << 20
)

// maxWildcardSubs bounds a session's wildcard subscriptions. Each distinct
// one is a PSUBSCRIBE, and Redis matches every message published to it
// against every pattern it holds: without a bound much smaller than
// websocket.max_subscriptions, a few clients with a thousand made-up
// patterns each would slow every publish of the deployment. A subscribe
// past it is answered "Too many subscriptions.".
const maxWildcardSubs = 16

// session is one WebSocket connection and everything it owns.
type session struct {
	id      string
	log     *slog.Logger // carries the id; see logger
	r       *Router
	conn    *websocket.Conn
	raw     net.Conn        // the socket under conn; closing it ends a close handshake in progress
	ctx     context.Context // ends when the connection does; cancels its callbacks
	cancel  context.CancelFunc
	out     *outbox
	limit   *rate.Limiter
	maxSubs int  // websocket.max_subscriptions when the connection opened
	stamps  bool // websocket.delivery_timestamps when the connection opened
	// writeTimeout is websocket.write_timeout for writeFrame to apply; zero
	// when the coalescer puts it on the socket's writes instead.
	writeTimeout time.Duration

	// Event queue, drained by a processor goroutine that runs only while
	// there are events.
	evMu       sync.Mutex
	events     []sessionEvent
	eventBytes int // memory held by the frames in events
	processing bool
	closed     bool
	procWG     sync.WaitGroup

	// Touched only by the processor.
	authenticated bool
	authFields    map[string]json.RawMessage
	// authSnap is authFields for readers outside the processor (the
	// control channel); nil until the first successful auth.
	authSnap atomic.Pointer[map[string]json.RawMessage]
	// allowed are the subscription patterns the last auth granted.
	allowed []string
	// authGen counts identities; an expiry armed for an older one is void.
	authGen uint64

	// subs is written by the processor and read by the closer and reload.
	subsMu sync.Mutex
	subs   map[string]*subscription

	// Background work (timer callbacks, the close handshake) is tracked so
	// teardown can wait for it; enter refuses once the session is ending.
	bgMu      sync.Mutex
	bgClosed  bool
	bg        sync.WaitGroup
	pingTimer clock.Timer
	authTimer clock.Timer // the current identity's expiry

	closeOnce sync.Once // the close handshake starts once
	dropOnce  sync.Once // the socket is dropped once, even during a handshake
}

// sessionEvent is one item for the processor: a client frame, or work that
// must be serialised with client events (a renewal answer, a removed service).
type sessionEvent struct {
	frame []byte
	// limited marks a frame over the rate limit, of which only name is kept
	// (bad when it was not a valid event): it is answered, not handled.
	limited bool
	bad     bool
	name    string
	run     func() // internal work; frame is nil
}

// limitedEvent is the queue entry of a frame over the rate limit: its
// event name only, so that a client cannot hold memory with frames it is
// refused.
func limitedEvent(frame []byte) sessionEvent {
	ev, ok := decodeEvent(frame)
	return sessionEvent{limited: true, bad: !ok, name: ev.name}
}

func newSessionID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// logger returns the session's logger, which carries its id; it is built
// once, when the connection is accepted.
func (s *session) logger() *slog.Logger {
	if s.log == nil { // a session built by hand, in tests
		return s.r.log.With("session", s.id)
	}
	return s.log
}

// serve runs the reader until the connection ends, then tears the session
// down. It runs on a goroutine of its own, started by ServeHTTP. Reads take
// no context: closing the socket (closeWith, drop, teardown) ends them, and
// a context with Done would cost a registration on every read.
func (s *session) serve() {
	ws := s.r.cfg.Load().WebSocket
	s.conn.SetReadLimit(ws.MaxMessageBytes)
	s.schedulePing()
	overloaded := false
	for {
		typ, frame, err := s.conn.Read(context.Background())
		if err != nil {
			s.logReadEnd(err)
			break
		}
		if overloaded || (typ != websocket.MessageText && typ != websocket.MessageBinary) {
			continue // reading on lets the close handshake finish
		}
		ev := sessionEvent{frame: frame}
		if !s.limit.Allow() {
			ev = limitedEvent(frame)
		}
		if !s.enqueueEvent(ev) {
			s.r.strangers.log(s.logger(), slog.LevelWarn, "client sends events faster than they can be handled; closing",
				"max_queued", maxQueuedEvents, "max_queued_bytes", maxQueuedEventBytes)
			s.closeWith(disconnectEventBacklog)
			overloaded = true
			s.evMu.Lock()
			s.closed, s.events, s.eventBytes = true, nil, 0 // what waits is not handled
			s.evMu.Unlock()
		}
	}
	s.teardown()
}

func (s *session) logReadEnd(err error) {
	status := websocket.CloseStatus(err)
	switch {
	case status == websocket.StatusMessageTooBig:
		s.r.strangers.log(s.logger(), slog.LevelInfo, "client frame over max_message_bytes; closed", "code", int(status))
	case status != -1:
		s.r.strangers.log(s.logger(), slog.LevelDebug, "client closed", "code", int(status))
	default:
		s.r.strangers.log(s.logger(), slog.LevelDebug, "connection ended", "err", clipErr(err))
	}
}

// enqueueEvent hands ev to the processor, starting it when idle. It reports
// false when too many events, or too many bytes of them, are waiting.
func (s *session) enqueueEvent(ev sessionEvent) bool {
	s.evMu.Lock()
	defer s.evMu.Unlock()
	if s.closed {
		return true
	}
	size := cap(ev.frame) // what the frame's buffer holds, not only its length
	if ev.run == nil && (len(s.events) >= maxQueuedEvents ||
		(len(s.events) > 0 && s.eventBytes+size > maxQueuedEventBytes)) {
		return false
	}
	s.eventBytes += size
	s.events = append(s.events, ev)
	if !s.processing {
		s.processing = true
		s.procWG.Add(1)
		go s.process()
	}
	return true
}

// process handles queued events one at a time, in arrival order.
func (s *session) process() {
	defer s.procWG.Done()
	for {
		s.evMu.Lock()
		if len(s.events) == 0 || s.closed {
			s.events, s.eventBytes = nil, 0
			s.processing = false
			s.evMu.Unlock()
			return
		}
		ev := s.events[0]
		s.events[0] = sessionEvent{}
		s.events = s.events[1:]
		s.eventBytes -= cap(ev.frame)
		s.evMu.Unlock()
		if s.ctx.Err() != nil {
			continue
		}
		switch {
		case ev.run != nil:
			ev.run()
		case ev.limited:
			s.answerLimited(ev)
		default:
			s.handleFrame(ev.frame)
		}
	}
}

// send queues a delivery of sub for the client, unless sub has ended; it
// never blocks (a full queue closes the connection as a slow consumer).
func (s *session) send(sub *subscription, frame []byte) bool {
	return s.out.pushUnless(frame, &sub.gone)
}

// reply queues the answer to a client event, waiting while the queue is
// full: a client that sends faster than it reads is slowed down.
func (s *session) reply(frame []byte) bool { return s.out.pushWait(frame) }

// closeWith closes the connection with a close handshake in the background;
// the reader then sees the end and tears the session down.
func (s *session) closeWith(d disconnect) {
	s.closeOnce.Do(func() {
		s.out.close()
		if !s.enter() {
			s.drop()
			return
		}
		go func() {
			defer s.leave()
			if err := s.conn.Close(d.code, d.reason); err != nil {
				s.drop()
			}
		}()
	})
}

// drop closes the socket at once, without a close handshake, also while
// a close handshake started by closeWith waits for a client that does not
// answer: closing the socket under the WebSocket library ends that wait
// (the library's own CloseNow would wait for it instead). The socket is
// reset, so bytes the client never read do not linger in the kernel. It
// never blocks.
func (s *session) drop() {
	s.dropOnce.Do(func() {
		s.out.close()
		if s.raw == nil {
			s.conn.CloseNow()
			return
		}
		abort(s.raw)
		// The reader now fails and teardown releases the library's side.
	})
}

// abort closes c with a reset instead of an orderly shutdown: what is left
// in its send buffer is discarded.
func abort(c net.Conn) {
	inner := c
	if tc, ok := c.(interface{ NetConn() net.Conn }); ok { // TLS
		inner = tc.NetConn()
	}
	if l, ok := inner.(interface{ SetLinger(int) error }); ok {
		_ = l.SetLinger(0)
	}
	_ = c.Close()
}

// slowConsumer is the outbox's overflow callback.
func (s *session) slowConsumer() {
	s.r.metrics.Dropped.WithLabelValues(metrics.DropSlowConsumer).Inc()
	s.r.strangers.log(s.logger(), slog.LevelWarn, "send queue full; closing slow consumer", "send_queue", s.out.limit, "send_queue_bytes", s.out.limitBytes)
	s.closeWith(disconnectSlowConsumer)
}

// teardown ends every subscription once the reader has stopped: the
// processor is waited for, so no subscription can be added afterwards.
func (s *session) teardown() {
	s.cancel()
	s.out.close() // the socket is gone; a processor waiting for room stops waiting
	s.evMu.Lock()
	s.closed = true
	s.evMu.Unlock()
	s.procWG.Wait()

	s.bgMu.Lock()
	s.bgClosed = true
	if s.pingTimer != nil {
		s.pingTimer.Stop()
	}
	if s.authTimer != nil {
		s.authTimer.Stop()
	}
	s.bgMu.Unlock()

	s.subsMu.Lock()
	subs := s.subs
	s.subs = nil
	s.subsMu.Unlock()
	for _, sub := range subs {
		s.r.metrics.Subscriptions.WithLabelValues(sub.service).Dec()
		sub.end()
		s.r.closeQueue.push(sub)
	}

	s.conn.CloseNow()
	s.out.wait()
	s.bg.Wait()
	s.r.removeSession(s)
}

// schedulePing arms the keepalive timer: a ping every ping_interval, and a
// dropped socket when no pong comes within ping_timeout.
func (s *session) schedulePing() {
	ws := s.r.cfg.Load().WebSocket // settings of connection time apply
	interval, timeout := ws.PingInterval.Std(), ws.PingTimeout.Std()
	if interval <= 0 {
		return
	}
	clk := s.r.clock
	var fire func()
	ping := func() {
		defer s.leave()
		ctx, cancel := context.WithCancel(s.ctx)
		deadline := clk.AfterFunc(timeout, cancel)
		err := s.conn.Ping(ctx)
		deadline.Stop()
		cancel()
		if err != nil {
			if s.ctx.Err() == nil {
				s.r.strangers.log(s.logger(), slog.LevelInfo, "no pong within ping_timeout; dropping connection", "ping_timeout", timeout)
				s.drop()
			}
			return
		}
		s.bgMu.Lock()
		if !s.bgClosed {
			s.pingTimer = clk.AfterFunc(interval, fire)
		}
		s.bgMu.Unlock()
	}
	fire = func() {
		if s.enter() {
			go ping() // the wait for the pong must not hold the clock's goroutine (a manual clock calls fire from Advance)
		}
	}
	s.bgMu.Lock()
	s.pingTimer = clk.AfterFunc(interval, fire)
	s.bgMu.Unlock()
}

// enter registers background work of the session; it reports false once
// the session is being torn down. Every true answer is paired with leave.
func (s *session) enter() bool {
	s.bgMu.Lock()
	defer s.bgMu.Unlock()
	if s.bgClosed {
		return false
	}
	s.bg.Add(1)
	return true
}

func (s *session) leave() { s.bg.Done() }

// subscription returns the session's subscription named name, if any.
func (s *session) subscription(name string) *subscription {
	s.subsMu.Lock()
	defer s.subsMu.Unlock()
	return s.subs[name]
}

func (s *session) subscriptionCount() int {
	s.subsMu.Lock()
	defer s.subsMu.Unlock()
	return len(s.subs)
}

// wildcardCount is how many of the session's subscriptions are wildcards.
func (s *session) wildcardCount() int {
	s.subsMu.Lock()
	defer s.subsMu.Unlock()
	n := 0
	for _, sub := range s.subs {
		if sub.wildcard {
			n++
		}
	}
	return n
}

// addSubscription records sub; it reports false when the session closed
// meanwhile (the caller then undoes the subscribe).
func (s *session) addSubscription(sub *subscription) bool {
	s.subsMu.Lock()
	defer s.subsMu.Unlock()
	if s.subs == nil {
		return false
	}
	s.subs[sub.name] = sub
	s.r.metrics.Subscriptions.WithLabelValues(sub.service).Inc()
	return true
}

// removeSubscription forgets sub; it reports false when sub was not the
// session's current subscription of that name.
func (s *session) removeSubscription(sub *subscription) bool {
	s.subsMu.Lock()
	defer s.subsMu.Unlock()
	if s.subs[sub.name] != sub {
		return false
	}
	delete(s.subs, sub.name)
	s.r.metrics.Subscriptions.WithLabelValues(sub.service).Dec()
	return true
}
