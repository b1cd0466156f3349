package router

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
)

// recordingConn is a net.Conn whose writes are recorded; nothing else of it
// may be used.
type recordingConn struct {
	net.Conn
	mu     sync.Mutex
	writes []string
	err    error
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	c.writes = append(c.writes, string(p))
	return len(p), nil
}

func TestCoalescer(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", maxHeld/2+1)
	cases := []struct {
		name  string
		steps func(c *coalescer) error
		want  []string
	}{
		{"not holding writes through", func(c *coalescer) error {
			_, _ = c.Write([]byte("a"))
			_, err := c.Write([]byte("b"))
			return err
		}, []string{"a", "b"}},
		{"held until flush, then one write", func(c *coalescer) error {
			c.holdBack()
			_, _ = c.Write([]byte("a"))
			_, _ = c.Write([]byte("b"))
			return c.flush()
		}, []string{"ab"}},
		{"flush with nothing held writes nothing", func(c *coalescer) error {
			c.holdBack()
			return c.flush()
		}, nil},
		{"at most maxHeld per write", func(c *coalescer) error {
			c.holdBack()
			_, _ = c.Write([]byte(big))
			_, _ = c.Write([]byte(big))
			return c.flush()
		}, []string{big, big}},
		{"a write after flush goes straight out", func(c *coalescer) error {
			c.holdBack()
			_, _ = c.Write([]byte("a"))
			if err := c.flush(); err != nil {
				return err
			}
			_, err := c.Write([]byte("b"))
			return err
		}, []string{"a", "b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rc := &recordingConn{}
			if err := tc.steps(&coalescer{conn: rc}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rc.writes, tc.want) {
				t.Errorf("socket writes %q, want %q", rc.writes, tc.want)
			}
		})
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

// BenchmarkSocketWrite sends batches of deliveries over a real loopback
// WebSocket, one system call per frame or one per batch.
func BenchmarkSocketWrite(b *testing.B) {
	for _, coalesce := range []bool{false, true} {
		for _, batch := range []int{1, 16} {
			b.Run("coalesce="+strconv.FormatBool(coalesce)+"/batch="+strconv.Itoa(batch), func(b *testing.B) {
				benchSocketWrite(b, coalesce, batch)
			})
		}
	}
}

func benchSocketWrite(b *testing.B, coalesce bool, batch int) {
	frame := []byte(`{"event":"message","subscription":"bench.t","data":{"seq":1,"ts":1700000000000000000,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}`)
	got := make(chan int, 1024)
	srvConn := make(chan *outbox, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := smallBuffers(w, 0)
		c, err := websocket.Accept(sw, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
		if err != nil {
			b.Error(err)
			return
		}
		write := func(f []byte) error { return c.Write(context.Background(), websocket.MessageText, f) }
		o := newOutbox(1<<20, 1<<30, write, func() {}, func(error) {})
		if cw := coalescerOf(sw); coalesce && cw != nil {
			o.batch = cw
		}
		srvConn <- o
		_, _, _ = c.Read(context.Background()) // until the client goes
		o.close()
		c.CloseNow()
		o.wait()
	}))
	defer srv.Close()
	client, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer client.CloseNow()
	go func() {
		for {
			if _, _, err := client.Read(context.Background()); err != nil {
				close(got)
				return
			}
			got <- 1
		}
	}()
	o := <-srvConn
	b.SetBytes(int64(len(frame) * batch))
	b.ReportAllocs()
	for b.Loop() {
		for range batch {
			o.push(frame)
		}
		for range batch {
			<-got
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/frame")
}
