package wstest

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestEventually(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	Eventually(t, 10*time.Second, "the third poll", func() bool { return n.Add(1) >= 3 })
	if got := n.Load(); got != 3 {
		t.Errorf("cond asked %d times, want 3", got)
	}
	r := &recorder{TB: t}
	msg := r.failure(func() { Eventually(r, 20*time.Millisecond, "never", func() bool { return false }) })
	if !strings.Contains(msg, "waiting for never") {
		t.Errorf("Eventually failed with %q", msg)
	}
}
