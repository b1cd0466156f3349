package main

import (
	"fmt"
	"testing"
)

func TestDropClientRecord(t *testing.T) {
	t.Parallel()
	c := &dropClient{seen: make([]bool, 5), last: -1}
	frame := func(seq int, offset string) []byte {
		return fmt.Appendf(nil, `{"event":"message","subscription":"bench.t0","data":{"seq":%d,"ts":1,"pad":""},"offset":%q}`, seq, offset)
	}
	for _, f := range [][]byte{
		frame(0, "e:1"), frame(1, "e:2"), frame(1, "e:2"), frame(3, "e:4"), frame(2, "e:3"),
		frame(9, "e:10"), []byte(`{"event":"subscribe","status":"ok"}`), []byte(`not json`),
	} {
		c.record(f)
	}
	if c.delivered != 4 || c.dup != 1 || c.reorder != 1 {
		t.Fatalf("delivered %d, duplicated %d, reordered %d; want 4, 1, 1", c.delivered, c.dup, c.reorder)
	}
	if c.offset != "e:3" {
		t.Fatalf("offset %q, want the last delivery's", c.offset)
	}
}
