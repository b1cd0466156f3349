package history

import (
	"strings"
	"testing"
)

func TestParseOffset(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want Offset
		ok   bool
	}{
		{"1764650000123456:42", Offset{"1764650000123456", 42}, true},
		{"1:0", Offset{"1", 0}, true},
		{"1:18446744073709551615", Offset{"1", 1<<64 - 1}, true},
		{"1:18446744073709551616", Offset{}, false},
		{"1:99999999999999999999999", Offset{}, false},
		{"", Offset{}, false},
		{":", Offset{}, false},
		{"1:", Offset{}, false},
		{":1", Offset{}, false},
		{"1:-1", Offset{}, false},
		{"1:+1", Offset{}, false},
		{"a:1", Offset{}, false},
		{"1:1:1", Offset{}, false},
		{"1:1 ", Offset{}, false},
		{strings.Repeat("9", 33) + ":1", Offset{}, false},
		{"１:1", Offset{}, false},
	}
	for _, c := range cases {
		got, ok := ParseOffset(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseOffset(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
		if ok && got.String() != c.in {
			t.Errorf("ParseOffset(%q).String() = %q", c.in, got.String())
		}
	}
}

func FuzzParseOffset(f *testing.F) {
	for _, s := range []string{"1:1", "", "1764650000123456:42", "x:y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if o, ok := ParseOffset(s); ok && o.String() != s {
			t.Fatalf("ParseOffset(%q) = %v, which reads back as %q", s, o, o.String())
		}
	})
}
