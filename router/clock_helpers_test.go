package router

import (
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/clock"
	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/services"
)

// manualClock returns a clock for newHarnessWith that moves only when the
// test advances it.
func manualClock() *clock.Manual {
	return clock.NewManual(time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC))
}

// newManualHarness is newHarness on a manual clock, with keepalive pings
// off so that the only timers are those the test is about.
func newManualHarness(t testing.TB, cfg *services.Config) (*harness, *clock.Manual) {
	t.Helper()
	cfg.WebSocket.PingInterval = 0
	clk := manualClock()
	return newHarnessWith(t, cfg, Options{Clock: clk}), clk
}

// nextCall waits until a call is armed on clk and returns how long until
// the earliest one falls due.
func nextCall(t testing.TB, clk *clock.Manual) time.Duration {
	t.Helper()
	var d time.Duration
	wstest.Eventually(t, 5*time.Second, "a timer armed", func() bool {
		var ok bool
		d, ok = clk.Next()
		return ok
	})
	return d
}

// fireNext waits until a call is armed on clk and advances the clock to
// it; the call runs before fireNext returns.
func fireNext(t testing.TB, clk *clock.Manual) {
	t.Helper()
	clk.Advance(nextCall(t, clk))
}
