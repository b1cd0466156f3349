package deploy

import (
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/wsrouter/wsrouter/metrics"
)

// knownMetrics returns every metric name a scrape of wsrouter's
// metrics.listen can show (histograms with their _bucket, _count and _sum
// series), and "up", which Prometheus adds per target.
func knownMetrics(t *testing.T) map[string]bool {
	t.Helper()
	m := metrics.New()
	m.ObserveReadiness(func() error { return nil })
	// Vectors show only once they have a child.
	m.Events.WithLabelValues("subscribe", "ok").Inc()
	m.CallbackDuration.WithLabelValues("authorizer", "ok").Observe(0.01)
	m.ServiceCallbackDuration.WithLabelValues("books", "authorizer", "ok").Observe(0.01)
	m.Subscriptions.WithLabelValues("books").Inc()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"up": true}
	for _, f := range families {
		known[f.GetName()] = true
		if f.GetType().String() == "HISTOGRAM" {
			for _, suffix := range []string{"_bucket", "_count", "_sum"} {
				known[f.GetName()+suffix] = true
			}
		}
	}
	return known
}

// metricName matches the metric names of wsrouter's own, Go runtime and
// process collectors in a PromQL expression.
var metricName = regexp.MustCompile(`\b(?:wsrouter|go|process)_[a-z0-9_]+\b`)

// exprProblems returns what is wrong with the metric names of expr: names
// wsrouter does not export, or no name of it at all.
func exprProblems(known map[string]bool, expr string) []string {
	names := metricName.FindAllString(expr, -1)
	if strings.Contains(expr, "up{") {
		names = append(names, "up")
	}
	if len(names) == 0 {
		return []string{"names no wsrouter metric"}
	}
	var out []string
	for _, n := range names {
		if !known[n] {
			out = append(out, n+" is not exported by wsrouter")
		}
	}
	sort.Strings(out)
	return out
}

// checkExpr fails the test for each problem of expr.
func checkExpr(t *testing.T, known map[string]bool, where, expr string) {
	t.Helper()
	for _, p := range exprProblems(known, expr) {
		t.Errorf("%s: %s (expression %s)", where, p, expr)
	}
}

// TestExprProblems: the check that guards the rules and the dashboard
// does catch a misspelt metric.
func TestExprProblems(t *testing.T) {
	known := knownMetrics(t)
	cases := []struct {
		expr string
		ok   bool
	}{
		{`rate(wsrouter_deliveries_total[5m])`, true},
		{`histogram_quantile(0.99, sum by (le) (rate(wsrouter_callback_duration_seconds_bucket[5m])))`, true},
		{`wsrouter_ready == 0`, true},
		{`up{job="wsrouter"} == 0`, true},
		{`rate(wsrouter_delivery_total[5m])`, false},
		{`go_gorotines`, false},
		{`vector(1)`, false},
	}
	for _, tc := range cases {
		if got := exprProblems(known, tc.expr); (len(got) == 0) != tc.ok {
			t.Errorf("exprProblems(%q) = %q, want ok=%v", tc.expr, got, tc.ok)
		}
	}
}
