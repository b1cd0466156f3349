package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestNewResult(t *testing.T) {
	t.Parallel()
	first := time.Unix(1000, 0)
	tl := tally{
		expected: 10, delivered: 8, lost: 2,
		lastNS:    first.Add(2 * time.Second).UnixNano(),
		latencies: []time.Duration{4 * time.Millisecond, time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond},
	}
	cfg := config{label: "floor", scenario: "burst", clients: 4, topics: 1, messages: 10}
	r := newResult(cfg, tl, 1500*time.Millisecond, first, first.Add(time.Second))
	if r.DeliveriesPerSecond != 4 {
		t.Errorf("deliveries/s = %g, want 4", r.DeliveriesPerSecond)
	}
	if r.LatencyMS != (latencyMS{P50: 2, P95: 4, P99: 4, Max: 4}) {
		t.Errorf("latency = %+v", r.LatencyMS)
	}
	if r.ConnectSubscribeSeconds != 1.5 || r.PublishSeconds != 1 {
		t.Errorf("connect %g publish %g", r.ConnectSubscribeSeconds, r.PublishSeconds)
	}
	r.setServerCost(&serverProbe{rssBefore: 1000, rssAfter: 1200, cpuBefore: 10, cpuAfter: 50}, 4, 8)
	if *r.RSSPerConnKiB != 50 {
		t.Errorf("rss/conn = %g, want 50", *r.RSSPerConnKiB)
	}
	if got := *r.CPUSecondsPerMillion; math.Abs(got-50000) > 1e-6 { // 0.4 s for 8 deliveries
		t.Errorf("cpu s per million = %g, want 50000", got)
	}

	var b strings.Builder
	if err := writeResult(&b, r, false); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want a JSON line and a human line, got %q", b.String())
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"server", "clients", "topics", "messages", "expected_deliveries", "delivered", "lost",
		"duplicated", "connect_subscribe_seconds", "deliveries_per_second", "latency_ms", "rss_per_conn_kib", "cpu_seconds_per_million"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON line lacks %q: %s", k, lines[0])
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{"defaults", nil, false},
		{"more topics than clients", []string{"-clients", "2", "-topics", "3"}, true},
		{"zero messages", []string{"-messages", "0"}, true},
		{"negative rate", []string{"-rate", "-1"}, true},
		{"zero settle", []string{"-settle", "0s"}, true},
		{"stray argument", []string{"extra"}, true},
		{"summarize skips load checks", []string{"-summarize", "x.jsonl", "-clients", "0"}, false},
		{"wildcard on a cluster", []string{"-wildcard", "-redis-cluster"}, true},
		{"wildcard", []string{"-wildcard"}, false},
		{"unknown compression", []string{"-compression", "deflate"}, true},
		{"compression", []string{"-compression", "no_context_takeover"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseFlags(tc.args, &strings.Builder{})
			if (err != nil) != tc.wantErr {
				t.Errorf("parseFlags(%q) err = %v, wantErr %v", tc.args, err, tc.wantErr)
			}
		})
	}
}
