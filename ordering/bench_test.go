package ordering

import (
	"encoding/json"
	"strconv"
	"testing"
)

func BenchmarkAllowDefaultKey(b *testing.B) {
	f := New(0)
	b.ReportAllocs()
	order := 0.0
	for b.Loop() {
		order++
		f.Allow("", order)
	}
}

func BenchmarkAllowKeys(b *testing.B) {
	f := New(0)
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = strconv.Quote("key-" + strconv.Itoa(i))
	}
	b.ReportAllocs()
	order := 0.0
	i := 0
	for b.Loop() {
		order++
		f.Allow(keys[i], order)
		i = (i + 1) % len(keys)
	}
}

func BenchmarkAllowKeysEvicting(b *testing.B) {
	f := New(64)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = strconv.Quote("key-" + strconv.Itoa(i))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f.Allow(keys[i], 1)
		i = (i + 1) % len(keys)
	}
}

func BenchmarkParseOrder(b *testing.B) {
	for _, raw := range []string{`12345`, `"-3.5"`} {
		b.Run(raw, func(b *testing.B) {
			msg := json.RawMessage(raw)
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := ParseOrder(msg); !ok {
					b.Fatal("not parsed")
				}
			}
		})
	}
}

func BenchmarkKey(b *testing.B) {
	for _, raw := range []string{``, `null`, `"user-1"`} {
		b.Run("raw="+raw, func(b *testing.B) {
			msg := json.RawMessage(raw)
			b.ReportAllocs()
			for b.Loop() {
				Key(msg)
			}
		})
	}
}
