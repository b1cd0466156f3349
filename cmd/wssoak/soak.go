package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// options configure one soak run.
type options struct {
	url            string        // the router's WebSocket URL
	redisAddr      string        // the Redis the router reads, host:port
	prefix         string        // the router's redis.channel_prefix
	service        string        // a service without authentication or callbacks
	metricsURL     string        // the router's /metrics; "" skips goroutines
	pid            int           // the router's PID; 0 skips RSS
	duration       time.Duration // how long clients churn
	clients        int           // clients connected at any time
	topics         int           // topics published to; each client takes 1-3
	rate           float64       // messages per second over all topics
	minStay        time.Duration // a client stays subscribed between minStay ...
	maxStay        time.Duration // ... and maxStay
	settle         time.Duration // how long resources may take to return near baseline
	goroutineSlack int           // final goroutines may exceed the baseline by this many
	memSlackKiB    uint64        // final RSS may exceed the baseline by this much
	seed           uint64

	// liveHeap measures memory as this process's live heap after a
	// collection instead of the router's RSS: for a router running in this
	// process, where RSS also holds the clients' memory (and, under the
	// race detector, shadow memory that is never returned).
	liveHeap bool
}

// results are the run's figures.
type results struct {
	sent, delivered, lost, dups, reorders, late atomic.Int64
	connections, subscribes, unsubscribes       atomic.Int64
	errors                                      atomic.Int64

	baseGoroutines, finalGoroutines int
	memLabel                        string // rss or heap
	baseMem, peakMem, finalMem      uint64 // KiB
	goroutinesBack, memBack         bool

	mu         sync.Mutex
	firstError string
}

// soaker runs the clients and the publisher and collects the results.
type soaker struct {
	opts  options
	pub   *publisher
	probe *probe
	res   results
}

// fail counts one error and keeps the first for the summary.
func (s *soaker) fail(format string, args ...any) {
	if s.res.errors.Add(1) == 1 {
		s.res.mu.Lock()
		s.res.firstError = fmt.Sprintf(format, args...)
		s.res.mu.Unlock()
	}
}

// soak runs one soak against a running router and returns its figures.
// The error is for a run that could not be carried out at all.
func soak(ctx context.Context, opts options) (*results, error) {
	rdb := redis.NewClient(&redis.Options{Addr: opts.redisAddr})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("wssoak: redis %s: %w", opts.redisAddr, err)
	}
	s := &soaker{
		opts:  opts,
		pub:   newPublisher(rdb, opts.prefix, opts.service, opts.topics, opts.rate),
		probe: newProbe(opts.metricsURL, opts.pid),
	}
	if opts.liveHeap {
		s.probe.memLabel, s.probe.memory = "heap", liveHeapKiB
	}
	var err error
	if s.res.baseGoroutines, err = s.probe.goroutines(ctx); err != nil {
		return nil, err
	}
	if s.res.baseMem, err = s.probe.memory(); err != nil {
		return nil, err
	}
	s.res.peakMem = s.res.baseMem
	s.res.memLabel = s.probe.memLabel

	pubCtx, stopPub := context.WithCancel(ctx)
	defer stopPub()
	pubErr := make(chan error, 1)
	go func() { pubErr <- s.pub.run(pubCtx) }()

	churnCtx, stopChurn := context.WithTimeout(ctx, opts.duration)
	defer stopChurn()
	samplerDone := make(chan struct{})
	go func() { defer close(samplerDone); s.sampleMemory(churnCtx) }()
	var wg sync.WaitGroup
	for i := range opts.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(opts.seed, uint64(i)))
			// Spread the first connections over the first stay.
			if !sleepCtx(churnCtx, time.Duration(rng.Int64N(int64(opts.minStay)+1))) {
				return
			}
			for churnCtx.Err() == nil {
				s.life(churnCtx, rng)
			}
		}()
	}
	wg.Wait()
	<-samplerDone
	stopPub()
	if err := <-pubErr; err != nil {
		s.fail("%v", err)
	}
	s.res.sent.Store(s.pub.sent.Load())
	s.settle(ctx)
	return &s.res, nil
}

// sampleMemory tracks the peak memory once a second until ctx ends.
func (s *soaker) sampleMemory(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if v, err := s.probe.memory(); err == nil && v > s.res.peakMem {
				s.res.peakMem = v
			}
		}
	}
}

// settle waits, at most opts.settle, for goroutines and memory to return
// near their baselines, and records the final figures.
func (s *soaker) settle(ctx context.Context) {
	r := &s.res
	deadline := time.Now().Add(s.opts.settle)
	for {
		g, gerr := s.probe.goroutines(ctx)
		rss, rerr := s.probe.memory()
		if gerr != nil || rerr != nil {
			s.fail("final resources: %v", firstErr(gerr, rerr))
			return
		}
		r.finalGoroutines, r.finalMem = g, rss
		r.peakMem = max(r.peakMem, rss)
		r.goroutinesBack = g <= r.baseGoroutines+s.opts.goroutineSlack
		r.memBack = rss <= r.baseMem+s.opts.memSlackKiB
		if r.goroutinesBack && r.memBack || time.Now().After(deadline) {
			return
		}
		if !sleepCtx(ctx, 500*time.Millisecond) {
			return
		}
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// liveHeapKiB collects garbage and returns this process's live heap in KiB.
func liveHeapKiB() (uint64, error) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc >> 10, nil
}
