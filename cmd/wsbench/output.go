package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/wsrouter/wsrouter/internal/procstat"
)

// result is one run's outcome, written as one JSON line.
type result struct {
	Server                  string    `json:"server"`
	Scenario                string    `json:"scenario,omitempty"`
	Clients                 int       `json:"clients"`
	Topics                  int       `json:"topics"`
	Messages                int       `json:"messages"`
	Rate                    float64   `json:"rate"`
	PayloadBytes            int       `json:"payload_bytes"`
	ExpectedDeliveries      int64     `json:"expected_deliveries"`
	Delivered               int64     `json:"delivered"`
	Lost                    int64     `json:"lost"`
	Duplicated              int64     `json:"duplicated"`
	Unexpected              int64     `json:"unexpected"`
	Dropped                 int64     `json:"dropped_connections"`
	ConnectSubscribeSeconds float64   `json:"connect_subscribe_seconds"`
	PublishSeconds          float64   `json:"publish_seconds"`
	DeliveriesPerSecond     float64   `json:"deliveries_per_second"`
	LatencyMS               latencyMS `json:"latency_ms"`
	RSSPerConnKiB           *float64  `json:"rss_per_conn_kib"`
	CPUSecondsPerMillion    *float64  `json:"cpu_seconds_per_million"`
	RSSPerConnEndKiB        *float64  `json:"rss_per_conn_end_kib,omitempty"` // after the deliveries
	Subs                    int       `json:"subs,omitempty"`
	Compression             string    `json:"compression,omitempty"`
	WireBytesPerDelivery    float64   `json:"wire_bytes_per_delivery,omitempty"`
}

// latencyMS holds end-to-end latency percentiles in milliseconds.
type latencyMS struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func newResult(cfg config, t tally, connect time.Duration, firstPub, lastPub time.Time) result {
	r := result{
		Server: cfg.label, Scenario: cfg.scenario,
		Clients: cfg.clients, Topics: cfg.topics, Messages: cfg.messages,
		Rate: cfg.rate, PayloadBytes: cfg.payload, Subs: cfg.subs, Compression: cfg.compression,
		ExpectedDeliveries: t.expected, Delivered: t.delivered, Lost: t.lost,
		Duplicated: t.duplicated, Unexpected: t.unexpected, Dropped: t.dropped,
		ConnectSubscribeSeconds: connect.Seconds(),
		PublishSeconds:          lastPub.Sub(firstPub).Seconds(),
	}
	if span := time.Duration(t.lastNS - firstPub.UnixNano()); t.delivered > 0 && span > 0 {
		r.DeliveriesPerSecond = float64(t.delivered) / span.Seconds()
	}
	p := percentiles(t.latencies, 50, 95, 99, 100)
	r.LatencyMS = latencyMS{P50: ms(p[0]), P95: ms(p[1]), P99: ms(p[2]), Max: ms(p[3])}
	return r
}

// setServerCost fills the RSS and CPU figures from the server samples.
func (r *result) setServerCost(s *serverProbe, clients int, delivered int64) {
	rss := (float64(s.rssAfter) - float64(s.rssBefore)) / float64(clients)
	r.RSSPerConnKiB = &rss
	if s.rssEnd > 0 {
		end := (float64(s.rssEnd) - float64(s.rssBefore)) / float64(clients)
		r.RSSPerConnEndKiB = &end
	}
	if delivered > 0 {
		cpu := float64(s.cpuAfter-s.cpuBefore) / procstat.ClockTicksPerSecond / float64(delivered) * 1e6
		r.CPUSecondsPerMillion = &cpu
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// writeResult prints the JSON line and, unless jsonOnly, a human line.
func writeResult(w io.Writer, r result, jsonOnly bool) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("wsbench: encode result: %w", err)
	}
	if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
		return fmt.Errorf("wsbench: write result: %w", err)
	}
	if jsonOnly {
		return nil
	}
	if _, err := fmt.Fprintln(w, humanLine(r)); err != nil {
		return fmt.Errorf("wsbench: write result: %w", err)
	}
	return nil
}

func humanLine(r result) string {
	name := r.Server
	if r.Scenario != "" {
		name += " " + r.Scenario
	}
	s := fmt.Sprintf("%s: %d clients, %d topics, %d msgs: connect+subscribe %.2fs, %.0f deliveries/s, "+
		"latency ms p50 %.2f p95 %.2f p99 %.2f max %.2f, delivered %d/%d, lost %d, dup %d",
		name, r.Clients, r.Topics, r.Messages, r.ConnectSubscribeSeconds, r.DeliveriesPerSecond,
		r.LatencyMS.P50, r.LatencyMS.P95, r.LatencyMS.P99, r.LatencyMS.Max,
		r.Delivered, r.ExpectedDeliveries, r.Lost, r.Duplicated)
	if r.Unexpected > 0 {
		s += fmt.Sprintf(", unexpected %d", r.Unexpected)
	}
	if r.Dropped > 0 {
		s += fmt.Sprintf(", dropped connections %d", r.Dropped)
	}
	if r.RSSPerConnKiB != nil {
		s += fmt.Sprintf(", rss/conn %.1f KiB", *r.RSSPerConnKiB)
	}
	if r.CPUSecondsPerMillion != nil {
		s += fmt.Sprintf(", cpu %.2f s per million deliveries", *r.CPUSecondsPerMillion)
	}
	return s
}
