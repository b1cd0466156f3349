package status

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/wsrouter/wsrouter/services"
)

// Defaults for Options.
const (
	DefaultInterval = 5 * time.Second
	DefaultWindow   = 15 * time.Minute
)

// Node is one live router node, as the HTTP API's node records describe it
// (the nodes of GET /api/info).
type Node struct {
	ID            string `json:"id"`
	Connections   int64  `json:"connections"`
	Subscriptions int64  `json:"subscriptions"`
	UptimeS       int64  `json:"uptime_s"`
	Version       string `json:"version"`
}

// NodeLister lists the deployment's live nodes. The HTTP API keeps a record
// of each node in Redis and satisfies it; without the API there is none.
type NodeLister interface {
	Nodes(ctx context.Context) ([]Node, error)
}

// Options are the status page's sources. Gatherer is required.
type Options struct {
	// Gatherer yields the wsrouter_* metrics (metrics.Metrics.Own).
	Gatherer prometheus.Gatherer
	// Ready reports the router's readiness (nil: ready); nil means always
	// ready.
	Ready func() error
	// Config returns the running configuration; nil shows no services.
	Config func() *services.Config
	// Reloads is the log of recent reloads; nil shows none.
	Reloads *Reloads
	// Nodes lists the deployment's nodes; nil means the HTTP API is off.
	Nodes NodeLister
	// NodeID and Version name this process on the page.
	NodeID, Version string
	// Interval is the sampling period; zero means DefaultInterval.
	Interval time.Duration
	// Window is how much history the charts show; zero means
	// DefaultWindow.
	Window time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Status samples the router's metrics and serves the status page. Build
// it with New, call Run in a goroutine of the caller's, and serve Handler.
type Status struct {
	opts    Options
	started time.Time

	mu      sync.Mutex
	samples *ring
	hist    histograms   // the newest callback histograms
	bases   []histograms // one a minute, for the latency window, oldest first
}

// New builds a Status and takes its first sample.
func New(opts Options) *Status {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Status{
		opts:    opts,
		started: opts.Now(),
		samples: newRing(int(opts.Window/opts.Interval) + 1),
	}
	s.Sample()
	return s
}

// Run samples every Interval until ctx ends. It is the package's only
// goroutine; the caller owns it.
func (s *Status) Run(ctx context.Context) {
	t := time.NewTicker(s.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Sample()
		}
	}
}

// Sample reads the metrics once into the ring. Run calls it; tests call it
// with a fake clock.
func (s *Status) Sample() {
	now := s.opts.Now()
	families, err := s.opts.Gatherer.Gather()
	sample, hist := read(families)
	if err != nil && len(families) == 0 {
		return // nothing to show; the next tick tries again
	}
	sample.At = now
	hist.at = now
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples.add(sample)
	s.hist = hist
	if n := len(s.bases); n == 0 || now.Sub(s.bases[n-1].at) >= latencyEvery {
		s.bases = append(s.bases, hist)
		if keep := int(latencyWindow/latencyEvery) + 1; len(s.bases) > keep {
			s.bases = append(s.bases[:0], s.bases[len(s.bases)-keep:]...)
		}
	}
}

// read turns gathered metric families into a sample and the callback
// histograms.
func read(families []*dto.MetricFamily) (Sample, histograms) {
	sample := Sample{Subscriptions: map[string]float64{}, Dropped: map[string]float64{}, Redis: map[string]float64{}}
	hist := histograms{series: map[seriesKey]histogram{}}
	plain := map[seriesKey]histogram{} // by callback only, when no series has a service
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch f.GetName() {
			case "wsrouter_connections":
				sample.Connections = m.GetGauge().GetValue()
			case "wsrouter_deliveries_total":
				sample.Deliveries = m.GetCounter().GetValue()
			case "wsrouter_subscriptions":
				sample.Subscriptions[labels["service"]] = m.GetGauge().GetValue()
			case "wsrouter_dropped_total":
				sample.Dropped[labels["reason"]] = m.GetCounter().GetValue()
			case "wsrouter_redis_up":
				shard := labels["shard"]
				if shard == "" {
					shard = "redis"
				}
				sample.Redis[shard] = m.GetGauge().GetValue()
			case "wsrouter_service_callback_duration_seconds":
				hist.series[seriesKey{labels["service"], labels["callback"], labels["result"]}] = readHistogram(m)
			case "wsrouter_callback_duration_seconds":
				plain[seriesKey{"", labels["callback"], labels["result"]}] = readHistogram(m)
			}
		}
	}
	if len(hist.series) == 0 {
		hist.series = plain
	}
	return sample, hist
}

func readHistogram(m *dto.Metric) histogram {
	h := m.GetHistogram()
	hg := histogram{count: h.GetSampleCount()}
	for _, b := range h.GetBucket() {
		hg.bounds = append(hg.bounds, b.GetUpperBound())
		hg.counts = append(hg.counts, b.GetCumulativeCount())
	}
	return hg
}

// latencyBase returns the baseline for the latency window: the newest kept
// histograms at least latencyWindow old, else the oldest kept.
func (s *Status) latencyBase(now time.Time) histograms {
	if len(s.bases) == 0 {
		return histograms{}
	}
	base := s.bases[0]
	for _, b := range s.bases {
		if now.Sub(b.at) >= latencyWindow {
			base = b
		}
	}
	return base
}
