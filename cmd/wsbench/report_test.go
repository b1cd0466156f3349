package main

import (
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{"one", []float64{4}, 4},
		{"odd unsorted", []float64{9, 1, 5}, 5},
		{"even", []float64{4, 1, 3, 2}, 2.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := median(tc.in); got != tc.want {
				t.Errorf("median(%v) = %g, want %g", tc.in, got, tc.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	in := `{"server":"wsrouter","scenario":"burst","deliveries_per_second":90,"rss_per_conn_kib":20}
{"server":"floor","scenario":"burst","deliveries_per_second":100,"rss_per_conn_kib":10}
{"server":"floor","scenario":"burst","deliveries_per_second":300}

{"server":"floor","scenario":"burst","deliveries_per_second":200}
{"server":"wsrouter","scenario":"burst","deliveries_per_second":110}
`
	rs, err := readResults(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := summarize(rs, "floor", &b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| scenario | metric | floor median (min–max) | wsrouter median (min–max) | wsrouter/floor |",
		"| burst | deliveries/s | 200 (100–300) n=3 | 100 (90.0–110) n=2 | 0.50 |",
		"| burst | RSS KiB/conn | 10.0 (10.0–10.0) n=1 | 20.0 (20.0–20.0) n=1 | 2.00 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "CPU s/M") {
		t.Errorf("summary has a row for a metric no run measured:\n%s", out)
	}
	if _, err := readResults(strings.NewReader("{not json}\n")); err == nil {
		t.Error("readResults accepted a malformed line")
	}
}
