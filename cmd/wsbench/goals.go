package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// goalServers names the servers the performance targets compare.
type goalServers struct {
	baseline  string // the reference server, "floor"
	candidate string // the server under test, "wsrouter"
	timers    string // the same with renewal and heartbeat timers configured
}

// maxRSSPerConnKiB is the idle-memory target: RSS per connection with one
// subscription.
const maxRSSPerConnKiB = 12

// runs groups results by scenario and server.
type runs map[[2]string][]result

func groupRuns(rs []result) runs {
	g := runs{}
	for _, r := range rs {
		k := [2]string{r.Scenario, r.Server}
		g[k] = append(g[k], r)
	}
	return g
}

// stat returns the median, min and max of a metric over a group's runs.
func (g runs) stat(scenario, server string, m func(result) (float64, bool)) (med, lo, hi float64, ok bool) {
	return g.statAcross([]string{scenario}, server, m)
}

// statAcross is stat over the runs of several scenarios together.
func (g runs) statAcross(scenarios []string, server string, m func(result) (float64, bool)) (med, lo, hi float64, ok bool) {
	var vs []float64
	for _, sc := range scenarios {
		for _, r := range g[[2]string{sc, server}] {
			if v, ok := m(r); ok {
				vs = append(vs, v)
			}
		}
	}
	if len(vs) == 0 {
		return 0, 0, 0, false
	}
	return median(vs), slices.Min(vs), slices.Max(vs), true
}

var (
	mDeliveries = func(r result) (float64, bool) { return r.DeliveriesPerSecond, true }
	mCPU        = func(r result) (float64, bool) { return deref(r.CPUSecondsPerMillion) }
	mP99        = func(r result) (float64, bool) { return r.LatencyMS.P99, true }
	mRSS        = func(r result) (float64, bool) { return deref(r.RSSPerConnKiB) }
	mConnect    = func(r result) (float64, bool) { return r.ConnectSubscribeSeconds, true }
	mLost       = func(r result) (float64, bool) { return float64(r.Lost), true }
)

// goalRow is one line of the targets table.
type goalRow struct {
	num      string
	target   string
	measured string
	met      string // "yes", "no" or "–" when not measured
}

func verdict(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}

// ratioRow compares the candidate's median with the baseline's over the
// runs of scenarios: the target is met when the ratio is at least bound
// (atLeast) or at most bound.
func ratioRow(g runs, gs goalServers, id, target string, scenarios []string, m func(result) (float64, bool), atLeast bool, bound float64) goalRow {
	row := goalRow{num: id, target: target, measured: "–", met: "–"}
	c, _, _, okC := g.statAcross(scenarios, gs.candidate, m)
	b, _, _, okB := g.statAcross(scenarios, gs.baseline, m)
	if !okC || !okB || b == 0 {
		return row
	}
	ratio := c / b
	row.measured = fmt.Sprintf("%.2f× (%s vs %s)", ratio, num(c), num(b))
	if atLeast {
		row.met = verdict(ratio >= bound)
	} else {
		row.met = verdict(ratio <= bound)
	}
	return row
}

// lostRow checks that no run of server in scenario lost a delivery.
func lostRow(g runs, server, id, target, scenario string) goalRow {
	row := goalRow{num: id, target: target, measured: "–", met: "–"}
	_, _, worst, ok := g.stat(scenario, server, mLost)
	if !ok {
		return row
	}
	n := len(g[[2]string{scenario, server}])
	row.measured = fmt.Sprintf("%s lost in the worst of %d runs", num(worst), n)
	row.met = verdict(worst == 0)
	return row
}

// unchangedRow compares the timed server with the untimed one. With a few
// runs each, a change is measurable when the two min–max ranges of a
// metric do not overlap; lost deliveries must stay 0.
func unchangedRow(g runs, gs goalServers) goalRow {
	row := goalRow{num: "6", target: "timers configured: no measurable change", measured: "–", met: "–"}
	checks := []struct {
		scenarios []string
		name      string
		m         func(result) (float64, bool)
	}{
		{connectScenarios, "RSS/conn", mRSS},
		{[]string{"burst"}, "burst deliveries/s", mDeliveries},
		{[]string{"burst"}, "burst CPU/delivery", mCPU},
		{[]string{"steady"}, "steady p99", mP99},
		{[]string{"topics"}, "topics deliveries/s", mDeliveries},
	}
	var parts []string
	met, seen := true, false
	for _, c := range checks {
		t, tlo, thi, okT := g.statAcross(c.scenarios, gs.timers, c.m)
		u, ulo, uhi, okU := g.statAcross(c.scenarios, gs.candidate, c.m)
		if !okT || !okU || u == 0 {
			continue
		}
		seen = true
		overlap := tlo <= uhi && ulo <= thi
		met = met && overlap
		part := fmt.Sprintf("%s %.2f×", c.name, t/u)
		if !overlap {
			part += " (ranges apart)"
		}
		parts = append(parts, part)
	}
	for _, sc := range []string{"burst", "steady", "topics"} {
		if _, _, worst, ok := g.stat(sc, gs.timers, mLost); ok {
			seen = true
			met = met && worst == 0
			if worst != 0 {
				parts = append(parts, fmt.Sprintf("%s lost %s", sc, num(worst)))
			}
		}
	}
	if !seen {
		return row
	}
	row.measured = strings.Join(parts, ", ")
	row.met = verdict(met)
	return row
}

// connectScenarios are the scenarios whose connect phase is the same:
// CLIENTS clients subscribing to one topic. Idle memory and connect time
// are taken from all their runs.
var connectScenarios = []string{"burst", "steady"}

// goalRows evaluates the performance targets on the results.
func goalRows(rs []result, gs goalServers) []goalRow {
	g := groupRuns(rs)
	rows := []goalRow{
		ratioRow(g, gs, "1", "burst: deliveries/s ≥ 0.95× "+gs.baseline, []string{"burst"}, mDeliveries, true, 0.95),
		ratioRow(g, gs, "1", "burst: CPU per delivery ≤ 1.05× "+gs.baseline, []string{"burst"}, mCPU, false, 1.05),
		lostRow(g, gs.candidate, "1", "burst: 0 lost", "burst"),
		ratioRow(g, gs, "2", "steady: p99 latency ≤ "+gs.baseline+"'s", []string{"steady"}, mP99, false, 1),
		lostRow(g, gs.candidate, "2", "steady: 0 lost", "steady"),
		ratioRow(g, gs, "3", "many topics: deliveries/s ≥ 0.95× "+gs.baseline, []string{"topics"}, mDeliveries, true, 0.95),
	}
	mem := goalRow{num: "4", target: fmt.Sprintf("idle memory: RSS per connection ≤ %d KiB", maxRSSPerConnKiB), measured: "–", met: "–"}
	if v, lo, hi, ok := g.statAcross(connectScenarios, gs.candidate, mRSS); ok {
		mem.measured = fmt.Sprintf("%s KiB (%s–%s)", num(v), num(lo), num(hi))
		if b, _, _, ok := g.statAcross(connectScenarios, gs.baseline, mRSS); ok {
			mem.measured += fmt.Sprintf("; %s %s KiB", gs.baseline, num(b))
		}
		mem.met = verdict(v <= maxRSSPerConnKiB)
	}
	rows = append(rows, mem,
		ratioRow(g, gs, "5", "connect + subscribe ≤ 1.1× "+gs.baseline+"'s time", connectScenarios, mConnect, false, 1.1),
		unchangedRow(g, gs))
	return rows
}

// writeGoals writes the targets as a Markdown table.
func writeGoals(rs []result, gs goalServers, w io.Writer) error {
	var b strings.Builder
	b.WriteString("| # | target | measured (medians) | met |\n|---|---|---|---|\n")
	for _, r := range goalRows(rs, gs) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.num, r.target, r.measured, r.met)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("wsbench: write targets: %w", err)
	}
	return nil
}
