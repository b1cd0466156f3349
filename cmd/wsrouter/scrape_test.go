package main

import (
	"strconv"
	"strings"
	"testing"
)

// sample is one series of the Prometheus text exposition.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// scrape fetches /metrics and parses its samples.
func (p *routerProc) scrape() []sample {
	p.t.Helper()
	code, body, err := p.get("/metrics")
	if err != nil || code != 200 {
		p.t.Fatalf("/metrics: %d %v", code, err)
	}
	return parseSamples(p.t, body)
}

func parseSamples(t testing.TB, text string) []sample {
	t.Helper()
	var out []sample
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			t.Fatalf("metrics line %q", line)
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		s := sample{name: line[:sp], labels: map[string]string{}, value: v}
		if i := strings.IndexByte(s.name, '{'); i >= 0 {
			for _, pair := range strings.Split(strings.TrimSuffix(s.name[i+1:], "}"), ",") {
				k, val, _ := strings.Cut(pair, "=")
				if k != "" {
					s.labels[k] = strings.Trim(val, `"`)
				}
			}
			s.name = s.name[:i]
		}
		out = append(out, s)
	}
	return out
}

// find returns the value of the series name with (at least) labels
// "k=v", and whether it exists.
func find(samples []sample, name string, labels ...string) (float64, bool) {
next:
	for _, s := range samples {
		if s.name != name {
			continue
		}
		for _, kv := range labels {
			k, v, _ := strings.Cut(kv, "=")
			if s.labels[k] != v {
				continue next
			}
		}
		return s.value, true
	}
	return 0, false
}

// metric returns a series' value, 0 when absent.
func (p *routerProc) metric(name string, labels ...string) float64 {
	v, _ := find(p.scrape(), name, labels...)
	return v
}
