package router

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// closeQueue runs the unsubscribe callbacks of subscriptions whose
// connection closed, paced at http.close_callbacks_per_second so that a
// mass disconnect does not flood the services. Nothing queued is dropped
// while the router runs; Shutdown drains it within its deadline.
type closeQueue struct {
	r       *Router
	limiter *rate.Limiter

	mu   sync.Mutex
	jobs []*subscription
	wake chan struct{}

	slots   chan struct{}   // one per running job, sized to http.max_concurrency at start
	ctx     context.Context // ends when a drain runs out of time
	cancel  context.CancelFunc
	loopWG  sync.WaitGroup
	running sync.WaitGroup
}

func newCloseQueue(r *Router) *closeQueue {
	ctx, cancel := context.WithCancel(context.Background())
	perSecond := r.cfg.Load().HTTP.CloseCallbacksPerSecond
	return &closeQueue{
		r:       r,
		limiter: rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond))),
		wake:    make(chan struct{}, 1),
		slots:   make(chan struct{}, max(1, r.cfg.Load().HTTP.MaxConcurrency)),
		ctx:     ctx,
		cancel:  cancel,
	}
}

func (q *closeQueue) setRate(perSecond float64) {
	q.limiter.SetLimit(rate.Limit(perSecond))
	q.limiter.SetBurst(max(1, int(perSecond)))
}

// push queues sub's before_unsubscribe and on_unsubscribe, if it has any.
func (q *closeQueue) push(sub *subscription) {
	svc := sub.currentService()
	if svc.BeforeUnsubscribe == "" && svc.OnUnsubscribe == "" {
		return
	}
	q.mu.Lock()
	q.jobs = append(q.jobs, sub)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *closeQueue) start() {
	q.loopWG.Add(1)
	go q.loop()
}

// loop takes one token per callback and runs each subscription's callbacks
// in their own goroutine, at most http.max_concurrency at a time.
func (q *closeQueue) loop() {
	defer q.loopWG.Done()
	for {
		q.mu.Lock()
		var sub *subscription
		if len(q.jobs) > 0 {
			sub = q.jobs[0]
			q.jobs[0] = nil
			q.jobs = q.jobs[1:]
		}
		q.mu.Unlock()
		if sub == nil {
			select {
			case <-q.ctx.Done():
				return
			case <-q.wake:
				continue
			}
		}
		svc := sub.currentService()
		calls := 0
		for _, url := range []string{svc.BeforeUnsubscribe, svc.OnUnsubscribe} {
			if url != "" {
				calls++
			}
		}
		if err := q.limiter.WaitN(q.ctx, min(calls, q.limiter.Burst())); err != nil {
			q.mu.Lock()
			q.jobs = append([]*subscription{sub}, q.jobs...)
			q.mu.Unlock()
			return
		}
		// At most http.max_concurrency jobs run at once, so that queued
		// callbacks wait here, not in the callback client where their
		// timeout would run out.
		select {
		case q.slots <- struct{}{}:
		case <-q.ctx.Done():
			q.mu.Lock()
			q.jobs = append([]*subscription{sub}, q.jobs...)
			q.mu.Unlock()
			return
		}
		q.running.Add(1)
		go func() {
			defer func() { <-q.slots }()
			defer q.running.Done()
			body := sub.fields.Load().body(sub.name)
			if svc.BeforeUnsubscribe != "" {
				q.r.cb.Load().Call(q.ctx, "before_unsubscribe", svc.BeforeUnsubscribe, body)
			}
			if svc.OnUnsubscribe != "" {
				q.r.cb.Load().Call(q.ctx, "on_unsubscribe", svc.OnUnsubscribe, body)
			}
		}()
	}
}

// pending returns how many subscriptions wait for their callbacks.
func (q *closeQueue) pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.jobs)
}

// drain waits until every queued callback ran or ctx ends, then stops the
// queue. It returns how many subscriptions' callbacks were left undone.
func (q *closeQueue) drain(ctx context.Context) int {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for q.pending() > 0 && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	idle := make(chan struct{})
	go func() { q.running.Wait(); close(idle) }()
	select {
	case <-idle:
	case <-ctx.Done():
	}
	q.cancel() // ends callbacks still in flight
	q.loopWG.Wait()
	<-idle
	left := q.pending()
	if left > 0 {
		q.r.log.Warn("shutdown: unsubscribe callbacks left undone", "subscriptions", left)
	}
	return left
}
