package status

import (
	"math"
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	t.Parallel()
	bounds := []float64{0.01, 0.1, 1}
	cases := []struct {
		name  string
		cum   []uint64
		total uint64
		q     float64
		want  float64
	}{
		{"no observations", []uint64{0, 0, 0}, 0, 0.5, 0},
		{"all in the first bucket: interpolated from zero", []uint64{10, 10, 10}, 10, 0.5, 0.005},
		{"median in the second bucket", []uint64{2, 6, 10}, 10, 0.5, 0.01 + 0.09*(5-2)/4},
		{"p99 in the last finite bucket", []uint64{0, 0, 100}, 100, 0.99, 0.1 + 0.9*0.99},
		{"above every bound: the highest bound", []uint64{0, 0, 1}, 10, 0.99, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := quantile(tc.q, bounds, tc.cum, tc.total); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

func TestCallbackLatencyOverTheWindow(t *testing.T) {
	t.Parallel()
	bounds := []float64{0.01, 0.1, 1}
	h := func(count uint64, cum ...uint64) histogram {
		return histogram{bounds: bounds, counts: cum, count: count}
	}
	base := histograms{at: time.Unix(0, 0), series: map[seriesKey]histogram{
		{"", "before_subscribe", "ok"}: h(100, 100, 100, 100), // 100 fast calls before the window
		{"", "on_message", "ok"}:       h(5, 5, 5, 5),         // not called since
	}}
	now := histograms{at: time.Unix(300, 0), series: map[seriesKey]histogram{
		{"", "before_subscribe", "ok"}:          h(110, 100, 100, 110), // 10 slow calls in the window
		{"", "before_subscribe", "error"}:       h(2, 0, 2, 2),
		{"", "before_subscribe", "unavailable"}: h(1, 0, 0, 0), // above every bound
		{"", "on_message", "ok"}:                h(5, 5, 5, 5),
		{"books", "authorizer", "ok"}:           h(4, 4, 4, 4),
	}}
	got := callbackLatency(now, base)
	if len(got) != 2 {
		t.Fatalf("rows = %+v, want before_subscribe and books' authorizer (on_message was not called in the window)", got)
	}
	bs, az := got[0], got[1]
	if bs.Callback != "before_subscribe" || bs.Calls != 13 || bs.Errors != 2 || bs.Unavailable != 1 {
		t.Errorf("before_subscribe = %+v, want 13 calls, 2 errors, 1 unavailable", bs)
	}
	// 13 calls: 2 below 100 ms, 10 below 1 s, 1 above. The median (rank
	// 6.5) is in the 0.1-1 s bucket: 0.1 + 0.9*(6.5-2)/10 s.
	if want := (0.1 + 0.9*4.5/10) * 1000; math.Abs(bs.P50Ms-want) > 1e-9 {
		t.Errorf("before_subscribe p50 = %v ms, want %v", bs.P50Ms, want)
	}
	if bs.P99Ms != 1000 {
		t.Errorf("before_subscribe p99 = %v ms, want the highest bound, 1000", bs.P99Ms)
	}
	if az.Service != "books" || az.Callback != "authorizer" || az.Calls != 4 || az.P99Ms > 10 {
		t.Errorf("authorizer = %+v, want books' 4 calls under 10 ms", az)
	}
}
