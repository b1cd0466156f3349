package throttle

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestParsePeriod(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		raw    string
		want   time.Duration
		wantOK bool
	}{
		{name: "whole seconds", raw: `2`, want: 2 * time.Second, wantOK: true},
		{name: "fraction", raw: `0.25`, want: 250 * time.Millisecond, wantOK: true},
		{name: "numeric string", raw: `"1.5"`, want: 1500 * time.Millisecond, wantOK: true},
		{name: "zero", raw: `0`, want: 0, wantOK: true},
		{name: "negative", raw: `-1`, want: -time.Second, wantOK: true},
		{name: "huge clamped", raw: `1e300`, want: math.MaxInt64, wantOK: true},
		{name: "huge negative clamped", raw: `"-1e300"`, want: math.MinInt64, wantOK: true},
		{name: "absent", raw: ``},
		{name: "null", raw: `null`},
		{name: "boolean", raw: `true`},
		{name: "word", raw: `"soon"`},
		{name: "object", raw: `{"s":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := ParsePeriod(json.RawMessage(tc.raw))
			if ok != tc.wantOK || got != tc.want {
				t.Fatalf("ParsePeriod(%q) = %v, %v; want %v, %v", tc.raw, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{name: "absent", raw: ``, want: ""},
		{name: "null", raw: `null`, want: ""},
		{name: "string", raw: `"1"`, want: `"1"`},
		{name: "number", raw: `1`, want: `1`},
		{name: "object compacted", raw: `{ "a": 1 }`, want: `{"a":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Key(json.RawMessage(tc.raw)); got != tc.want {
				t.Fatalf("Key(%q) = %q; want %q", tc.raw, got, tc.want)
			}
		})
	}
}
