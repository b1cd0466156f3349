package main

import (
	"fmt"
	"io"
	"strings"
)

// scaleColumns are the figures of the scale table, one row per run.
var scaleColumns = []metric{
	{"connect+subscribe s", func(r result) (float64, bool) { return r.ConnectSubscribeSeconds, true }},
	{"RSS KiB/conn", func(r result) (float64, bool) { return deref(r.RSSPerConnKiB) }},
	{"after deliveries", func(r result) (float64, bool) { return deref(r.RSSPerConnEndKiB) }},
	{"deliveries/s", func(r result) (float64, bool) { return r.DeliveriesPerSecond, true }},
	{"p99 ms", func(r result) (float64, bool) { return r.LatencyMS.P99, true }},
	{"CPU s/M deliveries", func(r result) (float64, bool) { return deref(r.CPUSecondsPerMillion) }},
	{"wire B/delivery", func(r result) (float64, bool) { return r.WireBytesPerDelivery, r.WireBytesPerDelivery > 0 }},
	{"lost", func(r result) (float64, bool) { return float64(r.Lost), true }},
}

// writeScaleTable writes one Markdown row per run, in the order of the
// file: what the run varied (clients, subscriptions per client, payload,
// compression) and its figures, per connection or per delivery, so a cost
// that grows linearly with the work keeps its figure.
func writeScaleTable(rs []result, w io.Writer) error {
	var b strings.Builder
	b.WriteString("| scenario | server | clients | subs | payload B | compression |")
	for _, m := range scaleColumns {
		fmt.Fprintf(&b, " %s |", m.name)
	}
	b.WriteString("\n|---|---|---|---|---|---|" + strings.Repeat("---|", len(scaleColumns)) + "\n")
	for _, r := range rs {
		comp := r.Compression
		if comp == "" {
			comp = "none"
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %s |", r.Scenario, r.Server, r.Clients, max(r.Subs, 1), r.PayloadBytes, comp)
		for _, m := range scaleColumns {
			cell := "–"
			if v, ok := m.get(r); ok {
				cell = num(v)
			}
			fmt.Fprintf(&b, " %s |", cell)
		}
		b.WriteString("\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("wsbench: write scale table: %w", err)
	}
	return nil
}
