package router

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// outbox is a session's bounded send queue with a writer that runs only
// while there is something to send: an idle connection costs no goroutine.
// The queue is bounded twice: in frames and in bytes, whichever is reached
// first. Deliveries are put on the queue with push, which never blocks:
// when the queue is full, the overflow callback runs once (the client is
// too slow) and the outbox refuses everything after that. Replies to the
// client's own events use pushWait, which waits for room instead: a client
// that sends events faster than it reads the replies is slowed down, not
// dropped. A single frame larger than the byte bound is taken when nothing
// else is queued, so one large publication does not close every client.
type outbox struct {
	mu           sync.Mutex
	room         sync.Cond // signalled when the writer has written a batch, or on close
	queue        [][]byte
	spare        [][]byte
	pending      atomic.Int64 // frames queued plus taken by the writer and not yet written
	pendingBytes atomic.Int64 // the bytes of those frames
	limit        int
	limitBytes   int64
	writing      bool
	closed       bool
	stopped      atomic.Bool // closed, for the writer to see between frames without the lock

	write    func([]byte) error // writes one frame to the socket
	batch    batcher            // holds a batch's frames back for one write; may be nil
	overflow func()             // called once, without the lock, when the queue is full
	failed   func(error)        // called once, without the lock, when a write fails
	run      func()             // the writer, o.writeAll bound once: starting it allocates nothing
	wg       sync.WaitGroup     // the writer goroutine, if running
}

// batcher holds back the frames written through it until flush.
type batcher interface {
	holdBack()
	flush() error
}

func newOutbox(limit int, limitBytes int64, write func([]byte) error, overflow func(), failed func(error)) *outbox {
	o := &outbox{limit: limit, limitBytes: limitBytes, write: write, overflow: overflow, failed: failed}
	o.room.L = &o.mu
	o.run = o.writeAll
	return o
}

// push queues frame; it reports false when the outbox is closed or full.
func (o *outbox) push(frame []byte) bool { return o.pushUnless(frame, nil) }

// pushUnless is push, except that it queues nothing once ended is set. The
// check is made under the outbox's lock, so a delivery is never queued
// behind the reply that ended its subscription.
func (o *outbox) pushUnless(frame []byte, ended *atomic.Bool) bool {
	o.mu.Lock()
	if o.closed || (ended != nil && ended.Load()) {
		o.mu.Unlock()
		return false
	}
	if o.full(len(frame)) {
		o.closed = true
		o.stopped.Store(true)
		o.queue = nil
		o.room.Broadcast()
		o.mu.Unlock()
		o.overflow()
		return false
	}
	o.enqueueLocked(frame)
	o.mu.Unlock()
	return true
}

// pushWait queues frame, waiting while the queue is full; it reports false
// when the outbox is closed.
func (o *outbox) pushWait(frame []byte) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for !o.closed && o.full(len(frame)) {
		o.room.Wait()
	}
	if o.closed {
		return false
	}
	o.enqueueLocked(frame)
	return true
}

// full reports whether a frame of n bytes finds no room.
func (o *outbox) full(n int) bool {
	frames := o.pending.Load()
	return frames >= int64(o.limit) || (frames > 0 && o.pendingBytes.Load()+int64(n) > o.limitBytes)
}

// enqueueLocked appends frame and starts the writer when idle; o.mu is held.
func (o *outbox) enqueueLocked(frame []byte) {
	o.queue = append(o.queue, frame)
	o.pending.Add(1)
	o.pendingBytes.Add(int64(len(frame)))
	if !o.writing {
		o.writing = true
		o.wg.Add(1)
		go o.run()
	}
}

// writeAll writes queued frames in order until the queue is empty or
// closed. Each batch goes out in one system call when the outbox has a
// batcher. It first lets the goroutines already waiting run: during a burst
// the fan-out queues more frames meanwhile, so they share one system call.
func (o *outbox) writeAll() {
	defer o.wg.Done()
	runtime.Gosched()
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

		err := o.writeBatch(batch)
		clear(batch)
		o.mu.Lock()
		o.room.Broadcast()
		if err != nil {
			wasClosed := o.closed
			o.closed, o.writing, o.queue = true, false, nil
			o.stopped.Store(true)
			o.mu.Unlock()
			if !wasClosed {
				o.failed(err)
			}
			return
		}
		if cap(batch) <= 256 { // keep a small buffer; let a burst's big one go
			o.spare = batch[:0]
		}
		o.mu.Unlock()
	}
}

// writeBatch writes frames; with a batcher, all of them in one system call.
// Each frame leaves the pending counts as soon as it is written. Once the
// outbox is closed the rest of the batch is not written: a client closed as
// slow gets its close frame behind at most the frame being written.
func (o *outbox) writeBatch(frames [][]byte) error {
	if o.batch == nil {
		for _, f := range frames {
			if o.stopped.Load() {
				return nil
			}
			if err := o.write(f); err != nil {
				return err
			}
			o.written(f)
		}
		return nil
	}
	o.batch.holdBack()
	for _, f := range frames {
		if o.stopped.Load() {
			break
		}
		if err := o.write(f); err != nil {
			_ = o.batch.flush() // what was held may include a close frame
			return err
		}
		o.written(f)
	}
	return o.batch.flush()
}

// written takes a frame the writer has written out of the pending counts.
func (o *outbox) written(f []byte) {
	o.pending.Add(-1)
	o.pendingBytes.Add(-int64(len(f)))
}

// close refuses further frames and drops what is queued. It does not wait
// for a write in progress; wait does.
func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.stopped.Store(true)
	o.queue, o.spare = nil, nil
	o.room.Broadcast()
	o.mu.Unlock()
}

// wait returns once no writer goroutine is running. Call it after close and
// after the socket is closed, so a blocked write has returned.
func (o *outbox) wait() { o.wg.Wait() }
