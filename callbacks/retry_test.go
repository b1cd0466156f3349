package callbacks

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

func TestResetWait(t *testing.T) {
	t.Parallel()
	const fallback = 3 * time.Second
	const limit = 45 * time.Second // the call's budget: timeout × tries
	now := time.Unix(1_800_000_000, 0)
	names := []string{"X-Rate-Limit-Reset", "ratelimit-reset"}
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"no header", nil, fallback},
		{"fractional seconds", map[string]string{"X-Rate-Limit-Reset": "0.2"}, 200 * time.Millisecond},
		{"whole seconds", map[string]string{"X-Rate-Limit-Reset": "12"}, 12 * time.Second},
		{"zero", map[string]string{"X-Rate-Limit-Reset": "0"}, 0},
		{"spaces", map[string]string{"X-Rate-Limit-Reset": " 1.5 "}, 1500 * time.Millisecond},
		{"second name when first absent", map[string]string{"RateLimit-Reset": "4"}, 4 * time.Second},
		{"first name wins when both present", map[string]string{"X-Rate-Limit-Reset": "1", "RateLimit-Reset": "4"}, time.Second},
		{"capped at the budget", map[string]string{"X-Rate-Limit-Reset": "46"}, limit},
		{"exactly the budget", map[string]string{"X-Rate-Limit-Reset": "45"}, limit},
		{"an hour capped at the budget", map[string]string{"X-Rate-Limit-Reset": "3600"}, limit},
		{"largest delay capped", map[string]string{"X-Rate-Limit-Reset": "999999999"}, limit},
		{"unix time soon", map[string]string{"X-Rate-Limit-Reset": "1800000010"}, 10 * time.Second},
		{"unix time with fraction", map[string]string{"X-Rate-Limit-Reset": "1800000000.5"}, 500 * time.Millisecond},
		{"unix time past", map[string]string{"X-Rate-Limit-Reset": "1700000000"}, 0},
		{"unix time far off capped", map[string]string{"X-Rate-Limit-Reset": "99999999999"}, limit},
		{"smallest unix time", map[string]string{"X-Rate-Limit-Reset": "1000000000"}, 0},
		{"infinity capped", map[string]string{"X-Rate-Limit-Reset": "Inf"}, limit},
		{"out of float range capped", map[string]string{"X-Rate-Limit-Reset": "1e400"}, limit},
		{"beyond a duration capped", map[string]string{"X-Rate-Limit-Reset": "1e300"}, limit},
		{"negative falls back", map[string]string{"X-Rate-Limit-Reset": "-1"}, fallback},
		{"nan falls back", map[string]string{"X-Rate-Limit-Reset": "NaN"}, fallback},
		{"date falls back", map[string]string{"X-Rate-Limit-Reset": "Wed, 21 Oct 2015 07:28:00 GMT"}, fallback},
		{"unlisted header ignored", map[string]string{"Retry-After": "9"}, fallback},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			if got := resetWait(h, names, fallback, limit, now); got != tt.want {
				t.Errorf("resetWait = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestResetLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		timeout time.Duration
		tries   int
		want    time.Duration
	}{
		{"defaults", 15 * time.Second, 3, 45 * time.Second},
		{"one try", 2 * time.Second, 1, 2 * time.Second},
		{"never above an hour", 10 * time.Minute, 10, time.Hour},
		{"no overflow", time.Hour, 1 << 40, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &Client{opts: Options{Timeout: tt.timeout, Tries: tt.tries}}
			if got := c.resetLimit(); got != tt.want {
				t.Errorf("resetLimit = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestRetryWaits checks the pause before the second try; only lower
// bounds are asserted.
func TestRetryWaits(t *testing.T) {
	t.Parallel()
	ok := reply{body: `{"status":"ok"}`}
	tests := []struct {
		name    string
		first   reply
		wait    time.Duration
		atLeast time.Duration
	}{
		{"429 waits for the reset header", reply{status: 429, header: map[string]string{"X-Rate-Limit-Reset": "0.2"}}, time.Millisecond, 150 * time.Millisecond},
		{"429 without header waits wait", reply{status: 429}, 200 * time.Millisecond, 150 * time.Millisecond},
		{"500 waits wait", reply{status: 500}, 200 * time.Millisecond, 150 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &script{replies: []reply{tt.first, ok}}
			srv := serve(t, s)
			o := testOptions()
			o.Wait = tt.wait
			o.RateLimitResetHeaders = []string{"X-Rate-Limit-Reset"}
			c := newClient(t, o)

			if a := c.Call(context.Background(), "test", srv.URL, nil); !a.OK() {
				t.Fatalf("answer = %+v, want ok", a)
			}
			at := s.arrivals()
			if len(at) != 2 {
				t.Fatalf("requests = %d, want 2", len(at))
			}
			if gap := at[1].Sub(at[0]); gap < tt.atLeast {
				t.Errorf("second try came %s after the first, want at least %s", gap, tt.atLeast)
			}
		})
	}
}

func TestCallContextEnds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		reply reply
		wait  time.Duration
	}{
		{"during a request", reply{hang: true}, time.Millisecond},
		{"during the pause between tries", reply{status: 500}, time.Minute},
		{"during a 429 wait", reply{status: 429, header: map[string]string{"X-Rate-Limit-Reset": "3600"}}, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			arrived := make(chan struct{}, 10)
			var requests atomic.Int32 // counted before arrived is signalled
			s := &script{replies: []reply{tt.reply}}
			srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				arrived <- struct{}{}
				s.ServeHTTP(w, r)
			}))
			o := testOptions()
			o.Timeout = time.Minute
			o.Wait = tt.wait
			o.RateLimitResetHeaders = []string{"X-Rate-Limit-Reset"}
			c := newClient(t, o)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan *Answer, 1)
			go func() { done <- c.Call(ctx, "test", srv.URL, nil) }()

			<-arrived
			cancel()
			select {
			case a := <-done:
				if !a.Unavailable() {
					t.Errorf("answer = %+v, want unavailable", a)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Call did not return after its context was canceled")
			}
			if n := requests.Load(); n != 1 {
				t.Errorf("requests = %d, want 1", n)
			}
		})
	}
}
