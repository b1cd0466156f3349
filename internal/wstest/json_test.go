package wstest

import (
	"encoding/json"
	"testing"
)

// raw is JSON text, as SameJSON takes it.
func raw(s string) json.RawMessage { return json.RawMessage(s) }

func TestSameJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b any
		want bool
	}{
		{"decoded value and text", map[string]any{"a": 1.0}, raw(`{"a":1}`), true},
		{"members in any order", raw(`{"a":1,"b":2}`), raw(`{"b":2,"a":1}`), true},
		{"string is not number", "1", 1, false},
		{"nil is null", nil, raw(`null`), true},
		{"invalid text", raw(`{`), raw(`{`), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := SameJSON(tt.a, tt.b); got != tt.want {
				t.Errorf("SameJSON = %v, want %v", got, tt.want)
			}
		})
	}
}
