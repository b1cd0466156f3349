package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// metric is one column of a result summarized across runs.
type metric struct {
	name string
	get  func(result) (float64, bool)
}

var summaryMetrics = []metric{
	{"connect+subscribe s", func(r result) (float64, bool) { return r.ConnectSubscribeSeconds, true }},
	{"deliveries/s", func(r result) (float64, bool) { return r.DeliveriesPerSecond, true }},
	{"latency p50 ms", func(r result) (float64, bool) { return r.LatencyMS.P50, true }},
	{"latency p95 ms", func(r result) (float64, bool) { return r.LatencyMS.P95, true }},
	{"latency p99 ms", func(r result) (float64, bool) { return r.LatencyMS.P99, true }},
	{"latency max ms", func(r result) (float64, bool) { return r.LatencyMS.Max, true }},
	{"lost", func(r result) (float64, bool) { return float64(r.Lost), true }},
	{"duplicated", func(r result) (float64, bool) { return float64(r.Duplicated), true }},
	{"RSS KiB/conn", func(r result) (float64, bool) { return deref(r.RSSPerConnKiB) }},
	{"CPU s/M deliveries", func(r result) (float64, bool) { return deref(r.CPUSecondsPerMillion) }},
}

func deref(p *float64) (float64, bool) {
	if p == nil {
		return 0, false
	}
	return *p, true
}

// summarizeFile reads JSON result lines and writes the summary table of
// the servers cfg.only names (all when empty) and, with cfg.goals, the
// targets table.
func summarizeFile(cfg config, w io.Writer) error {
	f, err := os.Open(cfg.summarize)
	if err != nil {
		return fmt.Errorf("wsbench: %w", err)
	}
	defer f.Close()
	rs, err := readResults(f)
	if err != nil {
		return fmt.Errorf("wsbench: %s: %w", cfg.summarize, err)
	}
	if cfg.scale {
		return writeScaleTable(rs, w)
	}
	if cfg.goals {
		return writeGoals(rs, goalServers{baseline: cfg.baseline, candidate: cfg.candidate, timers: cfg.timersLabel}, w)
	}
	if cfg.only != "" {
		keep := strings.Split(cfg.only, ",")
		rs = slices.DeleteFunc(rs, func(r result) bool { return !slices.Contains(keep, r.Server) })
	}
	return summarize(rs, cfg.baseline, w)
}

// readResults decodes one result per non-blank line.
func readResults(r io.Reader) ([]result, error) {
	var rs []result
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var res result
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		rs = append(rs, res)
	}
	return rs, sc.Err()
}

// summarize writes a Markdown table: per scenario and metric, the median and
// min–max of each server's runs, and each server's median divided by the
// baseline server's median.
func summarize(rs []result, baseline string, w io.Writer) error {
	var scenarios, servers []string
	groups := map[[2]string][]result{}
	for _, r := range rs {
		if !slices.Contains(scenarios, r.Scenario) {
			scenarios = append(scenarios, r.Scenario)
		}
		if !slices.Contains(servers, r.Server) {
			servers = append(servers, r.Server)
		}
		k := [2]string{r.Scenario, r.Server}
		groups[k] = append(groups[k], r)
	}
	if i := slices.Index(servers, baseline); i > 0 {
		servers = append(append([]string{baseline}, servers[:i]...), servers[i+1:]...)
	}
	var others []string // servers with a ratio column
	if len(servers) > 0 && servers[0] == baseline {
		others = servers[1:]
	}

	var b strings.Builder
	b.WriteString("| scenario | metric |")
	for _, s := range servers {
		fmt.Fprintf(&b, " %s median (min–max) |", s)
	}
	for _, s := range others {
		fmt.Fprintf(&b, " %s/%s |", s, baseline)
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---|", len(servers)+len(others)) + "\n")
	for _, sc := range scenarios {
		for _, m := range summaryMetrics {
			cells, medians, seen := make([]string, len(servers)), make([]float64, len(servers)), false
			for i, s := range servers {
				var vs []float64
				for _, r := range groups[[2]string{sc, s}] {
					if v, ok := m.get(r); ok {
						vs = append(vs, v)
					}
				}
				cells[i] = "–"
				if len(vs) > 0 {
					seen = true
					medians[i] = median(vs)
					cells[i] = fmt.Sprintf("%s (%s–%s) n=%d", num(medians[i]), num(slices.Min(vs)), num(slices.Max(vs)), len(vs))
				}
			}
			if !seen {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s |", sc, m.name)
			for _, c := range cells {
				fmt.Fprintf(&b, " %s |", c)
			}
			for i := range others {
				ratio := "–"
				if base := medians[0]; base != 0 && cells[0] != "–" && cells[i+1] != "–" {
					ratio = fmt.Sprintf("%.2f", medians[i+1]/base)
				}
				fmt.Fprintf(&b, " %s |", ratio)
			}
			b.WriteString("\n")
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("wsbench: write summary: %w", err)
	}
	return nil
}

// median returns the middle value of vs (the mean of the two middle values
// for an even count); vs must not be empty.
func median(vs []float64) float64 {
	s := slices.Sorted(slices.Values(vs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// num formats a value with about three significant digits.
func num(v float64) string {
	switch a := max(v, -v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}
