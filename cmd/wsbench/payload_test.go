package main

import (
	"encoding/json"
	"testing"
)

func TestEncodeRecordsMessage(t *testing.T) {
	for _, payload := range []int{100, 1024, 16384} {
		b := encodeRecordsMessage(nil, "bench.t0", 7, 42, payload)
		var msg struct {
			Data struct {
				Seq, Ts int64
				Items   []map[string]any
			}
		}
		if err := json.Unmarshal(b, &msg); err != nil {
			t.Fatalf("payload %d: %v: %s", payload, err, b)
		}
		if msg.Data.Seq != 7 || msg.Data.Ts != 42 {
			t.Errorf("payload %d: seq, ts = %d, %d", payload, msg.Data.Seq, msg.Data.Ts)
		}
		seq, ts, ok := parseDelivery(b)
		if !ok || seq != 7 || ts != 42 {
			t.Errorf("payload %d: parseDelivery = %d, %d, %v", payload, seq, ts, ok)
		}
		data := len(b) - len(`{"subscription":"bench.t0","data":}`)
		if data > payload || (payload >= 1024 && data < payload*9/10) {
			t.Errorf("payload %d: data object is %d bytes", payload, data)
		}
	}
}
