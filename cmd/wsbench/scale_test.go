package main

import (
	"strings"
	"testing"
)

func TestWriteScaleTable(t *testing.T) {
	rss, end := 12.5, 20.0
	rs := []result{
		{Server: "wsrouter", Scenario: "conns", Clients: 1000, Subs: 1, PayloadBytes: 100,
			ConnectSubscribeSeconds: 0.5, RSSPerConnKiB: &rss, RSSPerConnEndKiB: &end, DeliveriesPerSecond: 5000,
			LatencyMS: latencyMS{P99: 12}, WireBytesPerDelivery: 157},
		{Server: "floor", Scenario: "compression", Clients: 10, PayloadBytes: 1024, Compression: "context_takeover"},
	}
	var b strings.Builder
	if err := writeScaleTable(rs, &b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want header, rule and 2 rows:\n%s", len(lines), b.String())
	}
	for i, want := range []string{
		"| conns | wsrouter | 1000 | 1 | 100 | none | 0.5 | 12.5 | 20.0 | 5000 | 12.0 | – | 157 | 0 |",
		"| compression | floor | 10 | 1 | 1024 | context_takeover | 0 | – | – | 0 | 0 | – | – | 0 |",
	} {
		if lines[i+2] != want {
			t.Errorf("row %d:\n got %s\nwant %s", i, lines[i+2], want)
		}
	}
}
