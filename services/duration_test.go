package services

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestDurationForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want time.Duration
	}{
		{"integer seconds", "15", 15 * time.Second},
		{"fractional seconds", "0.2", 200 * time.Millisecond},
		{"fraction that is inexact in binary", "66.21", 66210 * time.Millisecond},
		{"zero", "0", 0},
		{"go duration", "15s", 15 * time.Second},
		{"go duration millis", "200ms", 200 * time.Millisecond},
		{"go duration compound", "1m30s", 90 * time.Second},
		{"quoted seconds", `"2.5"`, 2500 * time.Millisecond},
		{"quoted go duration", `"5m"`, 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(tt.yaml), &n); err != nil {
				t.Fatal(err)
			}
			got, err := parseDuration(n.Content[0])
			if err != nil {
				t.Fatalf("parseDuration(%s): %v", tt.yaml, err)
			}
			if got.Std() != tt.want {
				t.Errorf("parseDuration(%s) = %v, want %v", tt.yaml, got.Std(), tt.want)
			}
		})
	}
}

func TestDurationBad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"word", "abc", `must be a duration: seconds (15, 0.2) or a Go duration ("15s", "200ms"), got "abc"`},
		{"negative seconds", "-1", "must not be negative, got -1"},
		{"negative go duration", "-3s", `must not be negative, got "-3s"`},
		{"unknown unit", "1x", `got "1x"`},
		{"bool", "true", "got true"},
		{"list", "[1]", "got a list"},
		{"mapping", "{a: 1}", "got a mapping"},
		{"not a number", ".nan", "got .nan"},
		{"overflow", "1e300", "got 1e300"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(tt.yaml), &n); err != nil {
				t.Fatal(err)
			}
			_, err := parseDuration(n.Content[0])
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseDuration(%s) error = %v, want it to contain %q", tt.yaml, err, tt.want)
			}
		})
	}
}

func TestDurationInConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		want    time.Duration
		wantErr string
	}{
		{"seconds", "shutdown_timeout: 12", 12 * time.Second, ""},
		{"fraction", "shutdown_timeout: 0.5", 500 * time.Millisecond, ""},
		{"string", "shutdown_timeout: 1m", time.Minute, ""},
		{"bad string", "shutdown_timeout: abc", 0, `c.yaml:1: shutdown_timeout: must be a duration`},
		{"negative", "shutdown_timeout: -1", 0, `c.yaml:1: shutdown_timeout: must not be negative, got -1`},
		{"bad unit", "shutdown_timeout: 1x", 0, `c.yaml:1: shutdown_timeout: must be a duration`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse("c.yaml", []byte(tt.yaml))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.ShutdownTimeout.Std() != tt.want {
				t.Errorf("shutdown_timeout = %v, want %v", c.ShutdownTimeout, tt.want)
			}
		})
	}
}

func TestDurationUnmarshalYAML(t *testing.T) {
	t.Parallel()
	var v struct {
		D Duration `yaml:"d"`
	}
	if err := yaml.Unmarshal([]byte("d: 1.5"), &v); err != nil {
		t.Fatal(err)
	}
	if v.D.Std() != 1500*time.Millisecond {
		t.Errorf("d = %v, want 1.5s", v.D)
	}
	if err := yaml.Unmarshal([]byte("d: soon"), &v); err == nil || !strings.Contains(err.Error(), `got "soon"`) {
		t.Errorf("error = %v, want one naming the bad value", err)
	}
	out, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "d: 1.5s\n" {
		t.Errorf("Marshal = %q, want %q", out, "d: 1.5s\n")
	}
}
