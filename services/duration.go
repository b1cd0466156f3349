package services

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written in YAML as a number of seconds (15,
// 0.2) or as a Go duration string ("15s", "200ms"). It is never negative.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d as a Go duration, e.g. "15s".
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalYAML writes d as a Go duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads a number of seconds or a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseDuration(n)
	if err != nil {
		return fmt.Errorf("services: line %d: %w", n.Line, err)
	}
	*d = v
	return nil
}

// durationSyntax explains what a duration looks like.
const durationSyntax = `must be a duration: seconds (15, 0.2) or a Go duration ("15s", "200ms")`

// parseDuration reads a scalar node as a Duration. The error is a message
// for a Problem, naming the bad value.
func parseDuration(n *yaml.Node) (Duration, error) {
	bad := func() (Duration, error) {
		return 0, fmt.Errorf("%s, got %s", durationSyntax, describe(n))
	}
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode || tag != "!!int" && tag != "!!float" && tag != "!!str" {
		return bad()
	}
	var d time.Duration
	if secs, err := strconv.ParseFloat(n.Value, 64); err == nil {
		if math.IsNaN(secs) || math.Abs(secs) >= math.MaxInt64/float64(time.Second) {
			return bad()
		}
		d = time.Duration(math.Round(secs * float64(time.Second)))
	} else if tag != "!!str" {
		return bad()
	} else if d, err = time.ParseDuration(n.Value); err != nil {
		return bad()
	}
	if d < 0 {
		return 0, fmt.Errorf("must not be negative, got %s", describe(n))
	}
	return Duration(d), nil
}
