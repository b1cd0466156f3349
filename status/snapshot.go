package status

import (
	"context"
	"encoding/json"
	"math"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/wsrouter/wsrouter/services"
)

// nodesTimeout bounds the node list's read from Redis for one page load.
const nodesTimeout = 2 * time.Second

// Snapshot is the body of GET /status.json.
type Snapshot struct {
	Node      NodeInfo  `json:"node"`
	Ready     Readiness `json:"ready"`
	IntervalS float64   `json:"interval_s"`
	WindowS   float64   `json:"window_s"`
	// Current is the newest sample's values.
	Current Current `json:"current"`
	// Series are the charts' data, one value per sample, oldest first.
	Series Series `json:"series"`
	// Callbacks are the latency percentiles over the last CallbacksWindowS
	// seconds (less just after the start).
	Callbacks        []Callback    `json:"callbacks"`
	CallbacksWindowS float64       `json:"callbacks_window_s"`
	Redis            []RedisState  `json:"redis"`
	Nodes            Nodes         `json:"nodes"`
	Services         []ServiceInfo `json:"services"`
	Reloads          []Reload      `json:"reloads"`
}

// NodeInfo describes this process.
type NodeInfo struct {
	ID      string    `json:"id"`
	Version string    `json:"version"`
	Started time.Time `json:"started"`
	UptimeS float64   `json:"uptime_s"`
}

// Readiness is what /readyz answers.
type Readiness struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// Current holds the newest sample's values and the rates since the one
// before it.
type Current struct {
	SampledAt       time.Time          `json:"sampled_at"`
	Connections     float64            `json:"connections"`
	Subscriptions   float64            `json:"subscriptions"`
	ByService       map[string]float64 `json:"subscriptions_by_service"`
	Deliveries      float64            `json:"deliveries_total"`
	Dropped         map[string]float64 `json:"dropped_total"`
	DeliveriesPerS  Number             `json:"deliveries_per_s"`
	DroppedPerS     Number             `json:"dropped_per_s"`
	DroppedAllTotal float64            `json:"dropped_all_total"`
}

// Series are the charts' data. T holds the sample times in Unix
// milliseconds; every other slice has one value per time. A rate is null
// for the first sample.
type Series struct {
	T              []int64             `json:"t"`
	Connections    []float64           `json:"connections"`
	Subscriptions  map[string][]Number `json:"subscriptions"`
	DeliveriesPerS []Number            `json:"deliveries_per_s"`
	DroppedPerS    map[string][]Number `json:"dropped_per_s"`
}

// Number is a float64 that encodes NaN as null (a value that does not
// exist, such as a rate before the second sample).
type Number float64

// MarshalJSON implements json.Marshaler.
func (n Number) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(n), 'g', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler: null is NaN.
func (n *Number) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Number(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Number(f)
	return nil
}

// RedisState is one Redis connection or shard.
type RedisState struct {
	Shard string `json:"shard"`
	Up    bool   `json:"up"`
}

// Nodes is the deployment's node list, from the HTTP API's node records.
type Nodes struct {
	// Enabled is false when the HTTP API is off: there are no records.
	Enabled bool   `json:"enabled"`
	Error   string `json:"error,omitempty"`
	List    []Node `json:"list"`
}

// ServiceInfo is one configured service.
type ServiceInfo struct {
	Name                  string `json:"name"`
	RequireAuthentication bool   `json:"require_authentication"`
	// Callbacks maps each configured callback to its URL without
	// credentials or query.
	Callbacks map[string]string `json:"callbacks"`
}

// Snapshot returns the page's data as of now.
func (s *Status) Snapshot(ctx context.Context) Snapshot {
	now := s.opts.Now()
	snap := Snapshot{
		Node: NodeInfo{
			ID: s.opts.NodeID, Version: s.opts.Version,
			Started: s.started.UTC(), UptimeS: math.Round(now.Sub(s.started).Seconds()),
		},
		Ready:     Readiness{OK: true},
		IntervalS: s.opts.Interval.Seconds(),
		WindowS:   s.opts.Window.Seconds(),
		Services:  serviceInfos(s.opts.Config),
		Reloads:   s.opts.Reloads.Last(),
		Nodes:     s.nodes(ctx),
	}
	if s.opts.Ready != nil {
		if err := s.opts.Ready(); err != nil {
			snap.Ready = Readiness{Error: err.Error()}
		}
	}

	s.mu.Lock()
	samples := s.samples.since(now.Add(-s.opts.Window))
	base := s.latencyBase(now)
	hist := s.hist
	s.mu.Unlock()

	snap.Series = series(samples)
	snap.Current = current(samples)
	snap.Callbacks = callbackLatency(hist, base)
	if base.at.IsZero() {
		base.at = s.started
	}
	snap.CallbacksWindowS = math.Round(hist.at.Sub(base.at).Seconds())
	if n := len(samples); n > 0 {
		for shard, up := range samples[n-1].Redis {
			snap.Redis = append(snap.Redis, RedisState{Shard: shard, Up: up == 1})
		}
		sort.Slice(snap.Redis, func(i, j int) bool { return snap.Redis[i].Shard < snap.Redis[j].Shard })
	}
	if snap.Redis == nil {
		snap.Redis = []RedisState{}
	}
	return snap
}

func (s *Status) nodes(ctx context.Context) Nodes {
	if s.opts.Nodes == nil {
		return Nodes{List: []Node{}}
	}
	ctx, cancel := context.WithTimeout(ctx, nodesTimeout)
	defer cancel()
	list, err := s.opts.Nodes.Nodes(ctx)
	out := Nodes{Enabled: true, List: list}
	if err != nil {
		out.Error = err.Error()
	}
	if out.List == nil {
		out.List = []Node{}
	}
	return out
}

// series lays the samples out as the charts' columns.
func series(samples []Sample) Series {
	out := Series{
		T:              make([]int64, len(samples)),
		Connections:    make([]float64, len(samples)),
		Subscriptions:  map[string][]Number{},
		DeliveriesPerS: make([]Number, len(samples)),
		DroppedPerS:    map[string][]Number{},
	}
	for i, s := range samples {
		out.T[i] = s.At.UnixMilli()
		out.Connections[i] = s.Connections
		out.DeliveriesPerS[i] = Number(math.NaN())
		if i > 0 {
			out.DeliveriesPerS[i] = rate(samples[i-1].Deliveries, s.Deliveries, samples[i-1].At, s.At)
		}
	}
	// A service or reason appears once it has a value in the window; its
	// earlier points are null (subscriptions) or zero (drops).
	for i, s := range samples {
		for service, n := range s.Subscriptions {
			col, ok := out.Subscriptions[service]
			if !ok {
				col = nanColumn(len(samples))
				out.Subscriptions[service] = col
			}
			col[i] = Number(n)
		}
		if i == 0 {
			continue
		}
		for reason, n := range s.Dropped {
			r := rate(samples[i-1].Dropped[reason], n, samples[i-1].At, s.At)
			col, ok := out.DroppedPerS[reason]
			if !ok {
				if r == 0 {
					continue
				}
				col = make([]Number, len(samples))
				col[0] = Number(math.NaN())
				out.DroppedPerS[reason] = col
			}
			col[i] = r
		}
	}
	return out
}

func nanColumn(n int) []Number {
	col := make([]Number, n)
	for i := range col {
		col[i] = Number(math.NaN())
	}
	return col
}

// rate is a counter's increase per second between two samples.
func rate(was, is float64, from, to time.Time) Number {
	d := to.Sub(from).Seconds()
	if d <= 0 || is < was {
		return Number(math.NaN())
	}
	return Number((is - was) / d)
}

// current returns the newest sample's values.
func current(samples []Sample) Current {
	c := Current{ByService: map[string]float64{}, Dropped: map[string]float64{}, DeliveriesPerS: Number(math.NaN()), DroppedPerS: Number(math.NaN())}
	n := len(samples)
	if n == 0 {
		return c
	}
	last := samples[n-1]
	c.SampledAt = last.At.UTC()
	c.Connections = last.Connections
	c.Deliveries = last.Deliveries
	for service, v := range last.Subscriptions {
		c.ByService[service] = v
		c.Subscriptions += v
	}
	for reason, v := range last.Dropped {
		c.Dropped[reason] = v
		c.DroppedAllTotal += v
	}
	if n > 1 {
		prev := samples[n-2]
		c.DeliveriesPerS = rate(prev.Deliveries, last.Deliveries, prev.At, last.At)
		var was float64
		for _, v := range prev.Dropped {
			was += v
		}
		c.DroppedPerS = rate(was, c.DroppedAllTotal, prev.At, last.At)
	}
	return c
}

// serviceInfos lists the configured services, sorted by name.
func serviceInfos(config func() *services.Config) []ServiceInfo {
	out := []ServiceInfo{}
	if config == nil {
		return out
	}
	cfg := config()
	if cfg == nil {
		return out
	}
	for name, svc := range cfg.Services {
		info := ServiceInfo{Name: name, RequireAuthentication: svc.RequiresAuthentication(), Callbacks: map[string]string{}}
		if svc != nil {
			for cb, u := range map[string]string{
				"authorizer": svc.Authorizer, "before_subscribe": svc.BeforeSubscribe,
				"on_subscribe": svc.OnSubscribe, "on_message": svc.OnMessage,
				"before_unsubscribe": svc.BeforeUnsubscribe, "on_unsubscribe": svc.OnUnsubscribe,
				"on_authorization_change": svc.OnAuthorizationChange, "on_heartbeat": svc.OnHeartbeat,
			} {
				if u != "" {
					info.Callbacks[cb] = bareURL(u)
				}
			}
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// bareURL returns u without user:password, query or fragment: a status
// page is no place for secrets.
func bareURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	p.User, p.RawQuery, p.ForceQuery, p.Fragment, p.RawFragment = nil, "", false, "", ""
	return p.String()
}

// encode renders the snapshot as JSON.
func (snap Snapshot) encode() ([]byte, error) { return json.Marshal(snap) }
