package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/wsrouter/wsrouter/internal/procstat"
)

// probe reads the router's resources: goroutines from its /metrics
// (go_goroutines) and memory, by default its resident set from
// /proc/PID/status. An empty metrics URL or a zero PID skips that figure.
type probe struct {
	metricsURL string
	pid        int
	http       *http.Client
	memLabel   string                 // what memory measures, for the summary
	memory     func() (uint64, error) // KiB; 0 means not measured
}

func newProbe(metricsURL string, pid int) *probe {
	p := &probe{metricsURL: metricsURL, pid: pid, http: &http.Client{Timeout: 5 * time.Second}, memLabel: "rss"}
	p.memory = p.rss
	return p
}

// goroutines returns the router's go_goroutines, or -1 without a metrics URL.
func (p *probe) goroutines(ctx context.Context) (int, error) {
	if p.metricsURL == "" {
		return -1, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.metricsURL, nil)
	if err != nil {
		return 0, fmt.Errorf("wssoak: metrics: %w", err)
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("wssoak: metrics: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return 0, fmt.Errorf("wssoak: metrics: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("wssoak: metrics: %s", resp.Status)
	}
	return parseGoroutines(body)
}

// parseGoroutines returns the value of go_goroutines in a Prometheus text
// exposition.
func parseGoroutines(text []byte) (int, error) {
	for line := range bytes.Lines(text) {
		rest, ok := bytes.CutPrefix(line, []byte("go_goroutines "))
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(string(bytes.TrimSpace(rest)), 64)
		if err != nil {
			return 0, fmt.Errorf("wssoak: malformed go_goroutines line %q", bytes.TrimSpace(line))
		}
		return int(v), nil
	}
	return 0, errors.New("wssoak: no go_goroutines in the metrics")
}

// rss returns the router's VmRSS in KiB, or 0 without a PID.
func (p *probe) rss() (uint64, error) {
	if p.pid == 0 {
		return 0, nil
	}
	v, err := procstat.RSS(p.pid)
	if err != nil {
		return 0, fmt.Errorf("wssoak: router: %w", err)
	}
	return v, nil
}
