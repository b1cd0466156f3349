package router

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsrouter/wsrouter/internal/procstat"
	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/services"
)

// memSampler records the peak of the heap in use while it runs.
type memSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

func sampleMemory() *memSampler {
	m := &memSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > m.peak.Load() {
				m.peak.Store(ms.HeapInuse)
			}
			select {
			case <-m.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return m
}

func (m *memSampler) end() uint64 { close(m.stop); <-m.done; return m.peak.Load() }

// liveHeap is the heap that survives a collection: what is really held.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func rssMiB() float64 {
	kib, err := procstat.RSS(os.Getpid())
	if err != nil {
		return -1
	}
	return float64(kib) / 1024
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// TestHostileClientsMemoryCeiling replays two memory-exhaustion attacks on
// a router with the default limits and asserts what the router holds
// stays under a ceiling derived from its byte bounds, then returns to its
// level before once the attackers are gone. It reports heap and RSS in
// one line (RSS is the whole test process, race detector included).
//
//   - idle readers: connections that never read send subscribes whose
//     large non-string name would be echoed, pings, then large frames,
//     over the rate limit;
//   - long names: connections subscribe to many names of 64 KB.
//
// Before the byte bounds the first held 1,024 frames and 1,024 replies per
// connection (about 56 MB each), the second every name twice.
func TestHostileClientsMemoryCeiling(t *testing.T) {
	cfg := testConfig(t)
	def := services.Default().WebSocket
	cfg.WebSocket.EventsPerSecond, cfg.WebSocket.EventsBurst = def.EventsPerSecond, def.EventsBurst
	cfg.WebSocket.PingInterval = 0 // nothing but the attack reaches the clients
	cfg.Services["books"] = open()
	h := newHarness(t, cfg)
	url := "ws" + strings.TrimPrefix(h.srv.URL, "http")
	base := liveHeap()
	baseRSS := rssMiB()

	const (
		idleConns    = 10
		bigSubs      = 20
		pings        = 20
		bigFrames    = 100
		nameConns    = 2
		longNames    = 200
		frameBytes   = 64000
		nameBytes    = 64000
		slackBytes   = 24 << 20 // buffers, goroutines, the clients' own side
		perConnBound = maxQueuedEventBytes + 2*frameBytes
	)
	// Replies to these clients are small (no echo over max_subscription_bytes),
	// so a connection holds at most its waiting events and the frames in
	// flight.
	ceiling := uint64(idleConns*perConnBound + slackBytes)

	sampler := sampleMemory()
	var conns []*websocket.Conn
	var mu sync.Mutex
	var wg sync.WaitGroup
	send := func(c *websocket.Conn, frame []byte) bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return c.Write(ctx, websocket.MessageText, frame) == nil
	}
	dialQuiet := func() *websocket.Conn {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Error(err)
			return nil
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		return c
	}
	bigName := []byte(`{"event":"subscribe","subscription":{"x":"` + strings.Repeat("s", 60<<10) + `"}}`)
	bigFrame := []byte(`{"event":"ping","data":"` + strings.Repeat("p", frameBytes) + `"}`)
	for range idleConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dialQuiet()
			if c == nil {
				return
			}
			for range bigSubs {
				if !send(c, bigName) {
					return
				}
			}
			for range pings {
				if !send(c, []byte(`{"event":"ping"}`)) {
					return
				}
			}
			for range bigFrames {
				if !send(c, bigFrame) {
					return // closed by the router: also a bound
				}
			}
		}()
	}
	for i := range nameConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dialQuiet()
			if c == nil {
				return
			}
			for j := range longNames {
				frame := fmt.Sprintf(`{"event":"subscribe","subscription":"books.%d-%d-%s"}`, i, j, strings.Repeat("n", nameBytes))
				if !send(c, []byte(frame)) {
					return
				}
			}
		}()
	}
	wg.Wait()
	held := liveHeap()
	peak := sampler.end()
	peakRSS := rssMiB()

	mu.Lock()
	for _, c := range conns {
		c.CloseNow()
	}
	mu.Unlock()
	wstest.Eventually(t, 20*time.Second, "attackers gone", func() bool {
		h.r.mu.Lock()
		defer h.r.mu.Unlock()
		return len(h.r.sessions) == 0
	})
	after := liveHeap()

	t.Logf("hostile-memory: conns=%d+%d held_heap=%.1fMiB peak_heap_inuse=%.1fMiB ceiling=%.1fMiB after_close=%.1fMiB rss=%.1f->%.1fMiB (base heap %.1fMiB)",
		idleConns, nameConns, mib(held-min(held, base)), mib(peak-min(peak, base)), mib(ceiling),
		mib(after-min(after, base)), baseRSS, peakRSS, mib(base))
	if held > base+ceiling {
		t.Errorf("router held %.1f MiB with the attackers connected, over the ceiling of %.1f MiB", mib(held-base), mib(ceiling))
	}
	if peak > base+2*ceiling {
		t.Errorf("heap in use peaked at %.1f MiB over its base, over twice the ceiling (%.1f MiB)", mib(peak-base), mib(ceiling))
	}
	if after > base+slackBytes {
		t.Errorf("%.1f MiB still held after every attacker left", mib(after-base))
	}
}
