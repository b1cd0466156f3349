package router

import (
	"errors"
	"slices"
	"sync"
	"testing"
)

// TestOutboxByteBound: the queue refuses a delivery once its bytes would
// pass the byte bound, whatever the frame count, and takes a single frame
// larger than the bound when nothing else is queued.
func TestOutboxByteBound(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		limitBytes   int64
		frames       []string // pushed while the first write is blocked
		wantOverflow bool
	}{
		{"within the bound", 10, []string{"aaaa", "bbbb", "cc"}, false},
		{"one byte over", 10, []string{"aaaa", "bbbb", "ccc"}, true},
		{"one frame over the bound alone", 3, []string{"aaaaaaaa"}, false},
		{"a frame over the bound behind another", 3, []string{"a", "bbbbbbbb"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			overflowed := false
			o := newOutbox(1000, tc.limitBytes, func([]byte) error { <-release; return nil },
				func() { overflowed = true }, func(error) {})
			for _, f := range tc.frames {
				o.push([]byte(f))
			}
			close(release)
			o.close()
			o.wait()
			if overflowed != tc.wantOverflow {
				t.Errorf("overflow = %v, want %v", overflowed, tc.wantOverflow)
			}
		})
	}
}

// TestOutboxReplyWaitsForBytes: a reply that does not fit in the byte
// bound waits until the writer has made room, and is then sent.
func TestOutboxReplyWaitsForBytes(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	written := make(chan string, 4)
	o := newOutbox(1000, 8, func(f []byte) error {
		if string(f) == "first" {
			<-release
		}
		written <- string(f)
		return nil
	}, func() { t.Error("overflow") }, func(error) {})
	if !o.push([]byte("first")) {
		t.Fatal("first refused")
	}
	if !o.full(len("reply")) { // 5+5 > 8 while first is being written
		t.Fatal("queue has room for the reply while first holds its bytes")
	}
	queued := make(chan bool)
	go func() { queued <- o.pushWait([]byte("reply")) }()
	close(release)
	if !<-queued {
		t.Fatal("reply refused")
	}
	for _, want := range []string{"first", "reply"} {
		if got := <-written; got != want {
			t.Fatalf("wrote %q, want %q", got, want)
		}
	}
	o.close()
	o.wait()
}

// TestOutboxStopsMidBatchOnClose: once the outbox is closed, the writer
// leaves the rest of its batch unwritten, so a close frame is not stuck
// behind a backlog the client will never read.
func TestOutboxStopsMidBatchOnClose(t *testing.T) {
	t.Parallel()
	for _, batched := range []bool{false, true} {
		var o *outbox
		release := make(chan struct{})
		var written []string
		o = newOutbox(100, 1<<20, func(f []byte) error {
			switch string(f) {
			case "0":
				<-release
			case "1":
				o.close()
			}
			written = append(written, string(f))
			return nil
		}, func() { t.Error("overflow") }, func(error) {})
		if batched {
			o.batch = &eventBatcher{}
		}
		for _, f := range []string{"0", "1", "2", "3"} {
			o.push([]byte(f)) // 1 to 3 queue up while 0 is being written
		}
		close(release)
		o.wait()
		if !slices.Equal(written, []string{"0", "1"}) {
			t.Errorf("batched=%v: wrote %q, want 0 and 1 only", batched, written)
		}
	}
}

// eventBatcher records holdBack, flush and writes in order.
type eventBatcher struct {
	mu     sync.Mutex
	events []string
}

func (e *eventBatcher) add(ev string) {
	e.mu.Lock()
	e.events = append(e.events, ev)
	e.mu.Unlock()
}
func (e *eventBatcher) holdBack()    { e.add("hold") }
func (e *eventBatcher) flush() error { e.add("flush"); return nil }

func TestOutboxBatches(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		failOn     string // the frame whose write fails
		want       []string
		wantFailed int
	}{
		{"frames queued meanwhile share a batch", "",
			[]string{"hold", "1", "flush", "hold", "2", "3", "flush"}, 0},
		{"a failed write still flushes what was held", "2",
			[]string{"hold", "1", "flush", "hold", "2", "flush"}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eb := &eventBatcher{}
			release := make(chan struct{})
			started := make(chan struct{})
			failed := 0
			write := func(f []byte) error {
				if string(f) == "1" {
					close(started)
					<-release
				}
				eb.add(string(f))
				if string(f) == tc.failOn {
					return errors.New("broken pipe")
				}
				return nil
			}
			o := newOutbox(10, 1<<20, write, func() { t.Error("overflow") }, func(error) { failed++ })
			o.batch = eb
			o.push([]byte("1"))
			<-started
			o.push([]byte("2"))
			o.push([]byte("3"))
			close(release)
			o.wait() // 2 and 3 were queued while the writer ran: no new one

			eb.mu.Lock()
			defer eb.mu.Unlock()
			if !slices.Equal(eb.events, tc.want) {
				t.Errorf("events %q, want %q", eb.events, tc.want)
			}
			if failed != tc.wantFailed {
				t.Errorf("failed called %d times, want %d", failed, tc.wantFailed)
			}
		})
	}
}
