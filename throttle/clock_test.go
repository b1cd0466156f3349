package throttle

import (
	"time"

	"github.com/wsrouter/wsrouter/internal/clock"
)

// newManualClock is the tests' clock: it moves only on Advance.
func newManualClock() *clock.Manual {
	return clock.NewManual(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
}
