package router

import (
	"context"
	"sync"

	"golang.org/x/time/rate"

	"github.com/wsrouter/wsrouter/callbacks"
)

// closeQueue runs the unsubscribe callbacks of subscriptions whose
// connection closed, paced at http.close_callbacks_per_second so that a
// mass disconnect does not flood the services, and at most
// http.max_concurrency at a time. Nothing queued is dropped while the
// router runs; Shutdown drains it within its deadline.
type closeQueue struct {
	r       *Router
	limiter *rate.Limiter
	slots   chan struct{} // one per running job, sized to http.max_concurrency at start

	mu     sync.Mutex
	jobs   []*subscription
	active int // jobs taken off the queue and not finished, including one waiting for its turn
	undone int // callbacks cut short by the end of a drain
	wake   chan struct{}
	idle   *sync.Cond // signalled when active drops

	ctx    context.Context // ends when a drain runs out of time
	cancel context.CancelFunc
	loopWG sync.WaitGroup
}

func newCloseQueue(r *Router) *closeQueue {
	ctx, cancel := context.WithCancel(context.Background())
	http := r.cfg.Load().HTTP
	q := &closeQueue{
		r:       r,
		limiter: rate.NewLimiter(rate.Limit(http.CloseCallbacksPerSecond), max(1, int(http.CloseCallbacksPerSecond))),
		slots:   make(chan struct{}, max(1, http.MaxConcurrency)),
		wake:    make(chan struct{}, 1),
		ctx:     ctx,
		cancel:  cancel,
	}
	q.idle = sync.NewCond(&q.mu)
	return q
}

func (q *closeQueue) setRate(perSecond float64) {
	q.limiter.SetLimit(rate.Limit(perSecond))
	q.limiter.SetBurst(max(1, int(perSecond)))
}

// push queues sub's before_unsubscribe and on_unsubscribe, if it has any.
func (q *closeQueue) push(sub *subscription) {
	if len(closeCalls(sub)) == 0 {
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

// closeCall is one unsubscribe callback to make.
type closeCall struct{ name, url string }

// closeCalls lists sub's unsubscribe callbacks, with the URLs configured now.
func closeCalls(sub *subscription) []closeCall {
	svc := sub.currentService()
	var calls []closeCall
	if svc.BeforeUnsubscribe != "" {
		calls = append(calls, closeCall{"before_unsubscribe", svc.BeforeUnsubscribe})
	}
	if svc.OnUnsubscribe != "" {
		calls = append(calls, closeCall{"on_unsubscribe", svc.OnUnsubscribe})
	}
	return calls
}

func (q *closeQueue) start() {
	q.loopWG.Add(1)
	go q.loop()
}

// take pops the next job, counting it active; nil when the queue is empty.
func (q *closeQueue) take() *subscription {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.jobs) == 0 {
		return nil
	}
	sub := q.jobs[0]
	q.jobs[0] = nil
	q.jobs = q.jobs[1:]
	q.active++
	return sub
}

// putBack returns a job that could not start to the head of the queue.
func (q *closeQueue) putBack(sub *subscription) {
	q.mu.Lock()
	q.jobs = append([]*subscription{sub}, q.jobs...)
	q.finishLocked()
	q.mu.Unlock()
}

func (q *closeQueue) finishLocked() {
	q.active--
	q.idle.Broadcast()
}

// loop takes one token per callback and runs each subscription's callbacks
// in their own goroutine, at most http.max_concurrency at a time, so that
// queued callbacks wait here rather than in the callback client, where
// their timeout would run out.
func (q *closeQueue) loop() {
	defer q.loopWG.Done()
	for {
		sub := q.take()
		if sub == nil {
			select {
			case <-q.ctx.Done():
				return
			case <-q.wake:
				continue
			}
		}
		calls := closeCalls(sub)
		if err := q.limiter.WaitN(q.ctx, max(1, min(len(calls), q.limiter.Burst()))); err != nil {
			q.putBack(sub)
			return
		}
		select {
		case q.slots <- struct{}{}:
		case <-q.ctx.Done():
			q.putBack(sub)
			return
		}
		go q.run(sub, calls)
	}
}

// run makes one subscription's unsubscribe callbacks, answers ignored.
func (q *closeQueue) run(sub *subscription, calls []closeCall) {
	defer func() {
		<-q.slots
		q.mu.Lock()
		q.finishLocked()
		q.mu.Unlock()
	}()
	body := sub.fields.Load().body(sub.name)
	ctx := callbacks.WithLogAttrs(q.ctx, "session", sub.sess.id, "subscription", sub.name)
	for i, c := range calls {
		if q.ctx.Err() == nil {
			q.r.cb.Load().Call(ctx, c.name, c.url, body)
		}
		if q.ctx.Err() != nil { // not made, or cut short
			q.mu.Lock()
			q.undone += len(calls) - i
			q.mu.Unlock()
			return
		}
	}
}

// drain waits until every queued callback ran or ctx ends, then stops the
// queue. It returns how many callbacks were left undone, queued or cut
// short, and logs that count.
func (q *closeQueue) drain(ctx context.Context) int {
	stop := context.AfterFunc(ctx, func() {
		q.mu.Lock()
		q.idle.Broadcast()
		q.mu.Unlock()
	})
	defer stop()
	q.mu.Lock()
	for (len(q.jobs) > 0 || q.active > 0) && ctx.Err() == nil {
		q.idle.Wait()
	}
	q.mu.Unlock()

	q.cancel() // ends the loop and cuts short callbacks still in flight
	q.loopWG.Wait()
	q.mu.Lock()
	for q.active > 0 {
		q.idle.Wait()
	}
	left := q.undone
	for _, sub := range q.jobs {
		left += len(closeCalls(sub))
	}
	q.mu.Unlock()
	if left > 0 {
		q.r.log.Warn("shutdown: unsubscribe callbacks left undone at shutdown_timeout", "calls", left)
	}
	return left
}
