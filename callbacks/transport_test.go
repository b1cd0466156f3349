package callbacks

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestMaxConcurrency(t *testing.T) {
	t.Parallel()
	var inFlight, most atomic.Int32
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(30 * time.Millisecond)
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	}))
	o := testOptions()
	o.MaxConcurrency = 2
	o.Timeout = 10 * time.Second
	c := newClient(t, o)

	var wg sync.WaitGroup
	answers := make([]*Answer, 10)
	for i := range answers {
		wg.Go(func() { answers[i] = c.Call(context.Background(), "test", srv.URL, nil) })
	}
	wg.Wait()

	for i, a := range answers {
		if !a.OK() {
			t.Errorf("call %d answer = %+v, want ok", i, a)
		}
	}
	if m := most.Load(); m > 2 {
		t.Errorf("server saw %d requests at once, want at most 2", m)
	}
	if m := most.Load(); m < 1 {
		t.Errorf("server saw no request")
	}
}

// TestWaitsHoldNoSlot checks that a call pausing between tries leaves its
// slot free: with one slot, a second call completes while the first waits.
func TestWaitsHoldNoSlot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		first reply
		wait  time.Duration
	}{
		{"429 reset wait", reply{status: 429, header: map[string]string{"X-Rate-Limit-Reset": "1"}}, time.Millisecond},
		{"pause between tries", reply{status: 503}, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			slow := &script{replies: []reply{tt.first, {body: `{"status":"ok"}`}}}
			quick := &script{replies: []reply{{body: `{"status":"ok"}`}}}
			arrived := make(chan struct{}, 10)
			mux := http.NewServeMux()
			mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
				arrived <- struct{}{}
				slow.ServeHTTP(w, r)
			})
			mux.Handle("/quick", quick)
			srv := serve(t, mux)
			o := testOptions()
			o.MaxConcurrency = 1
			o.Wait = tt.wait
			o.RateLimitResetHeaders = []string{"X-Rate-Limit-Reset"}
			c := newClient(t, o)

			done := make(chan *Answer, 1)
			go func() { done <- c.Call(context.Background(), "slow", srv.URL+"/slow", nil) }()
			<-arrived
			if a := c.Call(context.Background(), "quick", srv.URL+"/quick", nil); !a.OK() {
				t.Errorf("quick answer = %+v, want ok", a)
			}
			if n := slow.requests(); n != 1 {
				t.Errorf("slow call had made %d requests when the quick one ended, want 1 (still waiting)", n)
			}
			if a := <-done; !a.OK() {
				t.Errorf("slow answer = %+v, want ok", a)
			}
		})
	}
}

// stubTransport counts round trips and answers each with an empty 200.
type stubTransport struct{ calls atomic.Int32 }

// RoundTrip implements http.RoundTripper.
func (s *stubTransport) RoundTrip(*http.Request) (*http.Response, error) {
	s.calls.Add(1)
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(""))}, nil
}

// closeTracker is a request body that records being closed.
type closeTracker struct {
	io.Reader
	closed atomic.Bool
}

// Close implements io.Closer.
func (c *closeTracker) Close() error { c.closed.Store(true); return nil }

func TestTryTransportSlots(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		occupied int // slots taken before the round trip
		wantErr  string
		wantBase int32
	}{
		{"free slot", 0, "", 1},
		{"no slot within the timeout", 1, "callbacks: try timed out after 50ms waiting for a request slot: context deadline exceeded", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := &stubTransport{}
			tr := &tryTransport{base: base, timeout: 50 * time.Millisecond, gate: NewGate(1, 1)}
			for range tt.occupied {
				if err := tr.gate.acquire(context.Background(), ""); err != nil {
					t.Fatal(err)
				}
			}
			body := &closeTracker{Reader: strings.NewReader("{}")}
			req, err := http.NewRequest(http.MethodPost, "http://example.invalid/", body)
			if err != nil {
				t.Fatal(err)
			}

			resp, err := tr.RoundTrip(req)

			if got := base.calls.Load(); got != tt.wantBase {
				t.Errorf("base round trips = %d, want %d", got, tt.wantBase)
			}
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
				}
				if !body.closed.Load() {
					t.Errorf("request body not closed after a failed round trip")
				}
				return
			}
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			if n, _ := tr.gate.InFlight(""); n != 1 {
				t.Errorf("slots taken while the body is open = %d, want 1", n)
			}
			_ = resp.Body.Close()
			_ = resp.Body.Close()
			if n, _ := tr.gate.InFlight(""); n != 0 {
				t.Errorf("slots taken after the body closed = %d, want 0", n)
			}
		})
	}
}
