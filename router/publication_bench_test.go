package router

import (
	"testing"
	"time"
)

// BenchmarkDecodePublication decodes one published message, as each fan-out
// does once per message whatever the number of subscriptions.
func BenchmarkDecodePublication(b *testing.B) {
	const data = `{"seq":1,"ts":1700000000000000000,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`
	cases := []struct {
		name    string
		payload string
		withTop bool
	}{
		{"plain", `{"subscription":"bench.t","data":` + data + `}`, false},
		{"published_at", `{"subscription":"bench.t","data":` + data + `,"published_at":"2026-11-23T14:00:00.123456+00:00"}`, false},
		{"options", `{"subscription":"bench.t","data":` + data + `,"options":{"order":12,"order_key":"k","throttle":0.5}}`, false},
		{"filter_fields", `{"subscription":"bench.t","data":` + data + `,"room":"lobby","user_id":7}`, true},
	}
	now := time.Now()
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			payload := []byte(tc.payload)
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				if _, _, err := decodePublication("bench.t", payload, tc.withTop, false, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
