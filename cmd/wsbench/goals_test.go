package main

import (
	"strings"
	"testing"
)

func TestGoalRows(t *testing.T) {
	t.Parallel()
	in := `{"server":"floor","scenario":"burst","deliveries_per_second":100,"cpu_seconds_per_million":10,"rss_per_conn_kib":30,"connect_subscribe_seconds":2}
{"server":"wsrouter","scenario":"burst","deliveries_per_second":96,"cpu_seconds_per_million":11,"rss_per_conn_kib":11.5,"connect_subscribe_seconds":2.1}
{"server":"wsrouter-timers","scenario":"burst","deliveries_per_second":95,"cpu_seconds_per_million":11,"rss_per_conn_kib":11.9,"connect_subscribe_seconds":4}
{"server":"floor","scenario":"steady","latency_ms":{"p99":5},"rss_per_conn_kib":30,"connect_subscribe_seconds":2}
{"server":"wsrouter","scenario":"steady","latency_ms":{"p99":4},"rss_per_conn_kib":12.5,"connect_subscribe_seconds":2.1,"lost":0}
{"server":"wsrouter","scenario":"steady","latency_ms":{"p99":6},"rss_per_conn_kib":11.5,"connect_subscribe_seconds":2.0,"lost":3}
{"server":"wsrouter","scenario":"steady","latency_ms":{"p99":5},"rss_per_conn_kib":11.8,"connect_subscribe_seconds":2.3,"lost":0}
{"server":"wsrouter-timers","scenario":"steady","latency_ms":{"p99":9},"rss_per_conn_kib":12,"connect_subscribe_seconds":4}
`
	rs, err := readResults(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	rows := goalRows(rs, goalServers{baseline: "floor", candidate: "wsrouter", timers: "wsrouter-timers"})
	got := map[string]goalRow{}
	for _, r := range rows {
		got[r.target] = r
	}
	tests := []struct {
		name, target, met, measured string
	}{
		{"throughput within 5%", "burst: deliveries/s ≥ 0.95× floor", "yes", "0.96× (96.0 vs 100)"},
		{"CPU 10% over", "burst: CPU per delivery ≤ 1.05× floor", "no", "1.10×"},
		{"a lost delivery in one run", "steady: 0 lost", "no", "3 lost in the worst of 3 runs"},
		{"p99 equal to the floor's", "steady: p99 latency ≤ floor's", "yes", "1.00×"},
		{"no topics runs", "many topics: deliveries/s ≥ 0.95× floor", "–", "–"},
		{"memory: median of burst and steady runs", "idle memory: RSS per connection ≤ 12 KiB", "yes", "11.7 KiB (11.5–12.5)"},
		{"connect: median of burst and steady runs", "connect + subscribe ≤ 1.1× floor's time", "yes", "1.05×"},
		{"timers slow the steady p99 beyond the spread", "timers configured: no measurable change", "no", "steady p99 1.80× (ranges apart)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, ok := got[tc.target]
			if !ok {
				t.Fatalf("no row %q", tc.target)
			}
			if r.met != tc.met || !strings.Contains(r.measured, tc.measured) {
				t.Errorf("row %q: met %q measured %q, want met %q measured containing %q", tc.target, r.met, r.measured, tc.met, tc.measured)
			}
		})
	}
}
