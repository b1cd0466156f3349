package router

import "sync"

// outbox is a session's bounded send queue with a writer that runs only
// while there is something to send: an idle connection costs no goroutine.
// Putting a frame on the queue never blocks; when the queue is full, the
// overflow callback runs once (the client is too slow) and the outbox
// refuses everything after that.
type outbox struct {
	mu      sync.Mutex
	queue   [][]byte
	spare   [][]byte
	pending int // queued plus taken by the writer and not yet written
	limit   int
	writing bool
	closed  bool

	write    func([]byte) error // writes one frame to the socket
	overflow func()             // called once, without the lock, when the queue is full
	failed   func(error)        // called once, without the lock, when a write fails
	wg       sync.WaitGroup     // the writer goroutine, if running
}

func newOutbox(limit int, write func([]byte) error, overflow func(), failed func(error)) *outbox {
	return &outbox{limit: limit, write: write, overflow: overflow, failed: failed}
}

// push queues frame; it reports false when the outbox is closed or full.
func (o *outbox) push(frame []byte) bool {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return false
	}
	if o.pending >= o.limit {
		o.closed = true
		o.queue = nil
		o.mu.Unlock()
		o.overflow()
		return false
	}
	o.queue = append(o.queue, frame)
	o.pending++
	if !o.writing {
		o.writing = true
		o.wg.Add(1)
		go o.run()
	}
	o.mu.Unlock()
	return true
}

// run writes queued frames in order until the queue is empty or closed.
func (o *outbox) run() {
	defer o.wg.Done()
	for {
		o.mu.Lock()
		if o.closed || len(o.queue) == 0 {
			o.writing = false
			o.mu.Unlock()
			return
		}
		batch := o.queue
		o.queue = o.spare[:0]
		o.spare = nil
		o.mu.Unlock()

		for i, frame := range batch {
			if err := o.write(frame); err != nil {
				o.mu.Lock()
				wasClosed := o.closed
				o.closed, o.writing, o.queue = true, false, nil
				o.mu.Unlock()
				if !wasClosed {
					o.failed(err)
				}
				return
			}
			batch[i] = nil
			o.mu.Lock()
			o.pending--
			o.mu.Unlock()
		}
		o.mu.Lock()
		if cap(batch) <= 256 { // keep a small buffer; let a burst's big one go
			o.spare = batch[:0]
		}
		o.mu.Unlock()
	}
}

// close refuses further frames and drops what is queued. It does not wait
// for a write in progress; wait does.
func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.queue, o.spare = nil, nil
	o.mu.Unlock()
}

// wait returns once no writer goroutine is running. Call it after close and
// after the socket is closed, so a blocked write has returned.
func (o *outbox) wait() { o.wg.Wait() }
