package main

import (
	"fmt"
	"strings"
)

// problems lists what makes the run fail: any loss, duplicate, reorder or
// client error, and resources that did not return near their baselines.
func (r *results) problems() []string {
	var out []string
	for _, c := range []struct {
		n    int64
		what string
	}{
		{r.lost.Load(), "lost"},
		{r.dups.Load(), "duplicated"},
		{r.reorders.Load(), "reordered"},
		{r.errors.Load(), "client errors"},
	} {
		if c.n > 0 {
			out = append(out, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	if r.sent.Load() == 0 {
		out = append(out, "nothing published")
	}
	if r.delivered.Load() == 0 {
		out = append(out, "nothing delivered")
	}
	if r.baseGoroutines >= 0 && !r.goroutinesBack {
		out = append(out, fmt.Sprintf("goroutines %d did not return near the baseline %d", r.finalGoroutines, r.baseGoroutines))
	}
	if r.baseMem > 0 && !r.memBack {
		out = append(out, fmt.Sprintf("%s %s did not return near the baseline %s", r.memLabel, mib(r.finalMem), mib(r.baseMem)))
	}
	if r.firstError != "" {
		out = append(out, "first error: "+r.firstError)
	}
	return out
}

// summary is the one line a run prints.
func (r *results) summary() string {
	result := "ok"
	if p := r.problems(); len(p) > 0 {
		result = "FAIL (" + strings.Join(p, "; ") + ")"
	}
	goroutines, mem := "n/a", "n/a"
	if r.baseGoroutines >= 0 {
		goroutines = fmt.Sprintf("%d->%d", r.baseGoroutines, r.finalGoroutines)
	}
	if r.baseMem > 0 {
		mem = fmt.Sprintf("%s->%s", mib(r.baseMem), mib(r.finalMem))
	}
	return fmt.Sprintf("wssoak: sent=%d delivered=%d lost=%d duplicated=%d reordered=%d late=%d connections=%d subscribes=%d unsubscribes=%d errors=%d peak_%s=%s goroutines=%s %s=%s result=%s",
		r.sent.Load(), r.delivered.Load(), r.lost.Load(), r.dups.Load(), r.reorders.Load(), r.late.Load(),
		r.connections.Load(), r.subscribes.Load(), r.unsubscribes.Load(), r.errors.Load(),
		r.memLabel, mib(r.peakMem), goroutines, r.memLabel, mem, result)
}

func mib(kib uint64) string {
	if kib == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1fMiB", float64(kib)/1024)
}
