package status

import (
	"sort"
	"time"
)

// latencyWindow is how far back the callback percentiles look, and
// latencyEvery how often a baseline of the histograms is kept for it.
const (
	latencyWindow = 5 * time.Minute
	latencyEvery  = time.Minute
)

// seriesKey names one callback histogram series. service is "" when the
// histogram has no service label.
type seriesKey struct{ service, callback, result string }

// histogram is one series' cumulative bucket counts.
type histogram struct {
	bounds []float64 // finite upper bounds in seconds, ascending
	counts []uint64  // cumulative count at each bound
	count  uint64    // every observation, +Inf included
}

// histograms is every callback series at one instant.
type histograms struct {
	at     time.Time
	series map[seriesKey]histogram
}

// Callback is one callback's latency over the recent window, its calls of
// every result together.
type Callback struct {
	Service     string  `json:"service"`
	Callback    string  `json:"callback"`
	Calls       uint64  `json:"calls"`
	Errors      uint64  `json:"errors"`
	Unavailable uint64  `json:"unavailable"`
	P50Ms       float64 `json:"p50_ms"`
	P99Ms       float64 `json:"p99_ms"`
}

// callbackLatency compares now with base (which may be empty: since the
// start) and returns one row per service and callback that was called in
// between, sorted.
func callbackLatency(now, base histograms) []Callback {
	type key struct{ service, callback string }
	type acc struct {
		row    Callback
		bounds []float64
		counts []uint64
	}
	rows := map[key]*acc{}
	for k, h := range now.series {
		b := base.series[k]
		n := h.count - min(b.count, h.count)
		if n == 0 {
			continue
		}
		a := rows[key{k.service, k.callback}]
		if a == nil {
			a = &acc{row: Callback{Service: k.service, Callback: k.callback}, bounds: h.bounds, counts: make([]uint64, len(h.bounds))}
			rows[key{k.service, k.callback}] = a
		}
		a.row.Calls += n
		switch k.result {
		case "error":
			a.row.Errors += n
		case "unavailable":
			a.row.Unavailable += n
		}
		if len(h.bounds) == len(a.bounds) {
			for i := range h.counts {
				var was uint64
				if i < len(b.counts) {
					was = b.counts[i]
				}
				a.counts[i] += h.counts[i] - min(was, h.counts[i])
			}
		}
	}
	out := make([]Callback, 0, len(rows))
	for _, a := range rows {
		a.row.P50Ms = quantile(0.5, a.bounds, a.counts, a.row.Calls) * 1000
		a.row.P99Ms = quantile(0.99, a.bounds, a.counts, a.row.Calls) * 1000
		out = append(out, a.row)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Callback < out[j].Callback
	})
	return out
}

// quantile estimates the q-quantile of total observations from cumulative
// bucket counts, as Prometheus' histogram_quantile does: linear within the
// bucket the rank falls in; the highest finite bound when it falls above.
func quantile(q float64, bounds []float64, cumulative []uint64, total uint64) float64 {
	if total == 0 || len(bounds) == 0 {
		return 0
	}
	rank := q * float64(total)
	for i, c := range cumulative {
		if float64(c) < rank {
			continue
		}
		lower, below := 0.0, uint64(0)
		if i > 0 {
			lower, below = bounds[i-1], cumulative[i-1]
		}
		in := c - below
		if in == 0 {
			return bounds[i]
		}
		return lower + (bounds[i]-lower)*(rank-float64(below))/float64(in)
	}
	return bounds[len(bounds)-1]
}
