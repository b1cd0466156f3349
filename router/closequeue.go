package router

import (
	"context"
	"encoding/json"
	"sync"

	"golang.org/x/time/rate"

	"github.com/wsrouter/wsrouter/callbacks"
	"github.com/wsrouter/wsrouter/services"
)

// closeQueue runs the unsubscribe callbacks of subscriptions whose
// connection closed, paced at http.close_callbacks_per_second so that a
// mass disconnect does not flood the services. Each service has a queue of
// its own; the services take turns, and one service runs at most its share
// of http.max_concurrency (callbacks.ServiceShare) at a time, so a service
// that is slow or answers 429 delays only its own callbacks. Nothing
// queued is dropped while the router runs; Shutdown drains it within its
// deadline.
type closeQueue struct {
	r       *Router
	limiter *rate.Limiter

	mu      sync.Mutex
	queues  map[string]*serviceQueue // services with jobs queued or running
	turn    []*serviceQueue          // services with jobs queued, next turn first
	queued  int                      // jobs in all queues
	running int                      // jobs taken off a queue and not finished, including one waiting for its token
	undone  int                      // callbacks cut short by the end of a drain
	wake    chan struct{}
	idle    *sync.Cond // signalled when running drops

	ctx    context.Context // ends when a drain runs out of time
	cancel context.CancelFunc
	loopWG sync.WaitGroup
}

// serviceQueue is one service's part of the close queue.
type serviceQueue struct {
	name    string
	jobs    []closeJob
	running int
}

// closeJob is what the unsubscribe callbacks of one ended subscription
// need, and nothing more: the session it belonged to is not kept alive.
type closeJob struct {
	service      string
	svc          *services.Service // the service's configuration at subscribe time, for a service removed since
	subscription string
	session      string          // the session id, for logs
	body         json.RawMessage // the callback body, encoded
	// answered, when set, gets before_unsubscribe's data (nil when it
	// gave none, failed or is not configured) once that call is over and
	// before on_unsubscribe is made.
	answered func(data json.RawMessage)
}

// newCloseJob captures what sub's unsubscribe callbacks need.
func newCloseJob(sub *subscription) closeJob {
	body, err := json.Marshal(sub.fields.Load().body(sub.name))
	if err != nil { // not expected: every value is valid JSON already
		body = json.RawMessage(`{}`)
	}
	return closeJob{service: sub.service, svc: sub.svc, subscription: sub.name, session: sub.sess.id, body: body}
}

func newCloseQueue(r *Router) *closeQueue {
	ctx, cancel := context.WithCancel(context.Background())
	http := r.cfg.Load().HTTP
	q := &closeQueue{
		r:       r,
		limiter: rate.NewLimiter(rate.Limit(http.CloseCallbacksPerSecond), max(1, int(http.CloseCallbacksPerSecond))),
		queues:  map[string]*serviceQueue{},
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
func (q *closeQueue) push(sub *subscription) { q.pushAnswered(sub, nil) }

// pushAnswered is push, with answered called as closeJob says (at once
// when sub has no unsubscribe callback).
func (q *closeQueue) pushAnswered(sub *subscription, answered func(json.RawMessage)) {
	if len(q.calls(sub.service, sub.svc)) == 0 {
		if answered != nil {
			answered(nil)
		}
		return
	}
	job := newCloseJob(sub)
	job.answered = answered
	q.mu.Lock()
	sq := q.queues[job.service]
	if sq == nil {
		sq = &serviceQueue{name: job.service}
		q.queues[job.service] = sq
	}
	sq.jobs = append(sq.jobs, job)
	if len(sq.jobs) == 1 {
		q.turn = append(q.turn, sq)
	}
	q.queued++
	q.mu.Unlock()
	q.signal()
}

// signal wakes the loop.
func (q *closeQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// closeCall is one unsubscribe callback to make.
type closeCall struct{ name, url string }

// calls lists the unsubscribe callbacks of service, with the URLs
// configured now; svc is the service as it was at subscribe time, used
// when it has been removed since.
func (q *closeQueue) calls(service string, svc *services.Service) []closeCall {
	if now, ok := q.r.cfg.Load().Service(service); ok {
		svc = now
	}
	if svc == nil {
		return nil
	}
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

// take pops the next job of the first service in turn that runs less
// than its share, counting it running; false when no job may start now
// (none queued, http.max_concurrency reached, or every service with jobs
// at its share).
func (q *closeQueue) take() (closeJob, bool) {
	limit := q.r.cfg.Load().HTTP.MaxConcurrency
	share := callbacks.ServiceShare(limit)
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.running >= limit {
		return closeJob{}, false
	}
	for i, sq := range q.turn {
		if sq.running >= share {
			continue
		}
		job := sq.jobs[0]
		sq.jobs[0] = closeJob{}
		sq.jobs = sq.jobs[1:]
		q.turn = append(q.turn[:i], q.turn[i+1:]...)
		if len(sq.jobs) > 0 {
			q.turn = append(q.turn, sq) // its next job waits for the others' turns
		} else {
			sq.jobs = nil // let the drained backing array go
		}
		q.queued--
		sq.running++
		q.running++
		return job, true
	}
	return closeJob{}, false
}

// putBack returns a job that could not start to the head of its queue.
func (q *closeQueue) putBack(job closeJob) {
	q.mu.Lock()
	defer q.mu.Unlock()
	sq := q.queues[job.service]
	sq.jobs = append([]closeJob{job}, sq.jobs...)
	if len(sq.jobs) == 1 {
		q.turn = append([]*serviceQueue{sq}, q.turn...)
	}
	q.queued++
	q.finishLocked(sq)
}

// finishLocked counts a job of sq as no longer running.
func (q *closeQueue) finishLocked(sq *serviceQueue) {
	sq.running--
	q.running--
	if sq.running == 0 && len(sq.jobs) == 0 {
		delete(q.queues, sq.name)
	}
	q.idle.Broadcast()
}

// loop takes one token per callback and runs each job's callbacks in their
// own goroutine, within the caps take applies, so that queued callbacks
// wait here rather than in the callback client, where their timeout would
// run out.
func (q *closeQueue) loop() {
	defer q.loopWG.Done()
	for {
		job, ok := q.take()
		if !ok {
			select {
			case <-q.ctx.Done():
				return
			case <-q.wake:
				continue
			}
		}
		calls := q.calls(job.service, job.svc)
		if err := q.limiter.WaitN(q.ctx, max(1, min(len(calls), q.limiter.Burst()))); err != nil {
			q.putBack(job)
			return
		}
		go q.run(job, calls)
	}
}

// run makes one job's unsubscribe callbacks, answers ignored.
func (q *closeQueue) run(job closeJob, calls []closeCall) {
	defer func() {
		q.mu.Lock()
		q.finishLocked(q.queues[job.service])
		q.mu.Unlock()
		q.signal() // a slot is free
	}()
	ctx := callbacks.WithLogAttrs(q.ctx, "session", job.session, "subscription", job.subscription)
	answer := func(data json.RawMessage) {
		if job.answered != nil {
			job.answered(data)
			job.answered = nil
		}
	}
	defer answer(nil)
	for i, c := range calls {
		if c.name != "before_unsubscribe" {
			answer(nil)
		}
		if q.ctx.Err() == nil {
			ans := q.r.cb.Load().CallService(ctx, job.service, c.name, c.url, job.body)
			if c.name == "before_unsubscribe" {
				answer(ans.Data)
			}
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
		// Cut callbacks short at the deadline itself: a job whose first
		// callback ends just then must not start its next one.
		q.cancel()
		q.mu.Lock()
		q.idle.Broadcast()
		q.mu.Unlock()
	})
	defer stop()
	q.mu.Lock()
	for (q.queued > 0 || q.running > 0) && ctx.Err() == nil {
		q.idle.Wait()
	}
	q.mu.Unlock()

	q.cancel() // ends the loop and cuts short callbacks still in flight
	q.loopWG.Wait()
	q.mu.Lock()
	for q.running > 0 {
		q.idle.Wait()
	}
	left := q.undone
	for _, sq := range q.queues {
		for _, job := range sq.jobs {
			left += len(q.calls(job.service, job.svc))
		}
	}
	q.mu.Unlock()
	if left > 0 {
		q.r.log.Warn("shutdown: unsubscribe callbacks left undone at shutdown_timeout", "calls", left)
	}
	return left
}
