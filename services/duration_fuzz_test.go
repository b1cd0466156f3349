package services

import (
	"math"
	"strconv"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// FuzzDuration reads any YAML scalar as a Duration: the answer is an error
// or a non-negative duration, never a panic; a number is that many
// seconds, a Go duration string is that duration, null leaves the value
// unset, and what is read
// survives MarshalYAML and a second read unchanged.
func FuzzDuration(f *testing.F) {
	for _, seed := range []string{
		"15", "0.2", "66.21", "0", "-0", "-1", "1e3", "1e-10", "9223372036.854775", "9223372036.854776",
		"1e400", ".inf", "-.inf", ".nan", "NaN", "Inf", "0x10", "0x1p-2", "0o17", "1_000",
		"15s", "200ms", "1m30s", "-5s", "2562047h47m16.854775807s", "2562048h", "1.5h", "0s", "1µs", "1us",
		`"15"`, `"5m"`, `'1h'`, "", "~", "null", "true", "yes", "[1]", "{a: 1}", "!!binary aGk=", "&a 5", "*a",
		"2026-01-02", "1:30", "15 s", "s", "1e", "\"\\t3\"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, scalar string) {
		var doc struct {
			D Duration `yaml:"d"`
		}
		var node yaml.Node
		if yaml.Unmarshal([]byte("d: "+scalar), &node) != nil {
			return // not YAML: no value reaches Duration
		}
		err := yaml.Unmarshal([]byte("d: "+scalar), &doc)
		if err != nil {
			return
		}
		d := doc.D.Std()
		if d < 0 {
			t.Fatalf("d: %s read as negative %v", scalar, d)
		}
		if v := scalarOf(&node); v != nil {
			checkMeaning(t, v, d)
		}
		out, err := yaml.Marshal(doc)
		if err != nil {
			t.Fatalf("marshal %v: %v", d, err)
		}
		var again struct {
			D Duration `yaml:"d"`
		}
		if err := yaml.Unmarshal(out, &again); err != nil || again.D != doc.D {
			t.Fatalf("d: %s read as %v; written as %q it reads back as %v (%v)", scalar, d, out, again.D.Std(), err)
		}
	})
}

// scalarOf returns the scalar node under key d of a parsed document, or
// nil when it is something else.
func scalarOf(doc *yaml.Node) *yaml.Node {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode || len(m.Content) != 2 || m.Content[1].Kind != yaml.ScalarNode {
		return nil
	}
	return m.Content[1]
}

// checkMeaning checks d against what the scalar says: a number of seconds,
// else a Go duration string.
func checkMeaning(t *testing.T, n *yaml.Node, d time.Duration) {
	t.Helper()
	if n.ShortTag() == "!!null" {
		if d != 0 {
			t.Fatalf("null read as %v, want it left unset", d)
		}
		return
	}
	if secs, err := strconv.ParseFloat(n.Value, 64); err == nil {
		want := time.Duration(math.Round(secs * float64(time.Second)))
		if d != want {
			t.Fatalf("%q is %v seconds, read as %v", n.Value, secs, d)
		}
		return
	}
	if n.ShortTag() != "!!str" {
		t.Fatalf("%q (%s) is neither seconds nor a string, read as %v", n.Value, n.ShortTag(), d)
	}
	want, err := time.ParseDuration(n.Value)
	if err != nil || d != want {
		t.Fatalf("%q read as %v, want time.ParseDuration's %v (%v)", n.Value, d, want, err)
	}
}
