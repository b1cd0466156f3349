package throttle

import (
	"encoding/json"
	"math"
	"time"

	"github.com/wsrouter/wsrouter/ordering"
)

// ParsePeriod reads a throttle value: a JSON number of seconds or a string
// holding one, with the number rules of ordering.ParseOrder. ok is false
// otherwise (non-numeric values are ignored). Fractions of a second are
// kept to the nanosecond, values beyond the range of time.Duration are
// clamped to it, and a zero or negative result means no throttling.
func ParsePeriod(raw json.RawMessage) (time.Duration, bool) {
	seconds, ok := ordering.ParseOrder(raw)
	if !ok {
		return 0, false
	}
	ns := seconds * float64(time.Second)
	switch {
	case ns >= math.MaxInt64:
		return math.MaxInt64, true
	case ns <= math.MinInt64:
		return math.MinInt64, true
	}
	return time.Duration(ns), true
}

// Key returns the canonical key for a throttle_key value; it is
// ordering.Key, so absent and null share the default key "" and "1" and 1
// are different keys.
func Key(raw json.RawMessage) string {
	return ordering.Key(raw)
}
