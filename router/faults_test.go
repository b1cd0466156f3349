package router

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/control"
	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/services"
)

// TestFaultyServicesAffectOnlyTheirClients: services that fail in every
// way a service can give their own clients the right error, while a
// healthy service's client subscribes as fast as ever.
func TestFaultyServicesAffectOnlyTheirClients(t *testing.T) {
	t.Parallel()
	faulty := wstest.NewService(t)
	release := make(chan struct{})
	defer close(release)
	faulty.On("/hang", func(map[string]any) (int, any) {
		<-release
		return 200, `{"status":"ok"}`
	})
	faulty.Answer("/500", 500, `boom`)
	faulty.Answer("/garbage", 200, `<html>not json</html>`)
	// A service that accepts and resets every connection.
	reset, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer reset.Close()
	go func() {
		for {
			c, err := reset.Accept()
			if err != nil {
				return
			}
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			c.Close()
		}
	}()
	healthy := wstest.NewService(t)

	cfg := testConfig(t)
	cfg.HTTP.Timeout = services.Duration(time.Second)
	cfg.HTTP.Tries = 2
	for name, url := range map[string]string{
		"hang":    faulty.URL("/hang"),
		"errors":  faulty.URL("/500"),
		"garbage": faulty.URL("/garbage"),
		"reset":   "http://" + reset.Addr().String() + "/",
		"healthy": healthy.URL("/before_subscribe"),
	} {
		s := open()
		s.BeforeSubscribe = url
		cfg.Services[name] = s
	}
	h := newHarness(t, cfg)

	var wg sync.WaitGroup
	for _, name := range []string{"hang", "errors", "garbage", "reset"} {
		wg.Add(1)
		c := h.dial()
		go func() {
			defer wg.Done()
			c.Send(`{"event":"subscribe","subscription":"` + name + `.x"}`)
			want := `{"event":"subscribe","subscription":"` + name + `.x","status":"error","error":"Service unavailable."}`
			select {
			case got := <-c.Frames():
				if !control.JSONEqual(got, []byte(want)) {
					t.Errorf("%s: got %s, want %s", name, got, want)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("%s: no answer", name)
			}
		}()
	}
	time.Sleep(100 * time.Millisecond) // the faulty calls are under way
	c := h.dial()
	var worst time.Duration
	for i := range 5 {
		start := time.Now()
		c.Send(fmt.Sprintf(`{"event":"subscribe","subscription":"healthy.h%d"}`, i))
		c.Expect(fmt.Sprintf(`{"event":"subscribe","subscription":"healthy.h%d","status":"ok"}`, i))
		worst = max(worst, time.Since(start))
	}
	t.Logf("healthy subscribe round trip while other services fail: worst of 5 = %s", worst)
	if worst >= time.Second {
		t.Errorf("healthy subscribe took %s, as long as a failing service's timeout", worst)
	}
	wg.Wait()
}

// TestChurnReturnsToBaseline: 1,000 clients connect, subscribe and leave at
// once, three times; goroutines, open files and heap come back.
func TestChurnReturnsToBaseline(t *testing.T) {
	if testing.Short() {
		t.Skip("long: 1,000 clients, three rounds")
	}
	cfg := testConfig(t)
	cfg.Services["books"] = open()
	h := newHarness(t, cfg)
	url := "ws" + strings.TrimPrefix(h.srv.URL, "http")
	measure := func() (goroutines, files int, heap uint64) {
		h.r.cb.Load().CloseIdleConnections()
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fds, _ := os.ReadDir("/proc/self/fd")
		return runtime.NumGoroutine(), len(fds), ms.HeapInuse
	}
	round := func() {
		conns := subscribeMany(t, url, 1000, 100, func(i int) string { return fmt.Sprintf("books.c%d", i%50) })
		for _, c := range conns {
			if c != nil {
				c.CloseNow()
			}
		}
		wstest.Eventually(t, 20*time.Second, "sessions gone", func() bool { return sessionCount(h.r) == 0 })
	}
	round() // warm up pools and buffers
	g0, f0, h0 := measure()
	for range 3 {
		round()
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		g, f, heap := measure()
		if g <= g0+5 && f <= f0+5 && heap <= h0+8<<20 {
			t.Logf("baseline goroutines %d files %d heap %d KiB; after three rounds %d, %d, %d KiB", g0, f0, h0>>10, g, f, heap>>10)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after churn: goroutines %d (baseline %d), open files %d (%d), heap %d KiB (%d KiB)", g, g0, f, f0, heap>>10, h0>>10)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func sessionCount(r *Router) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sessions)
}
