package main

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestPercentiles(t *testing.T) {
	t.Parallel()
	ms := func(vs ...int) []time.Duration {
		d := make([]time.Duration, len(vs))
		for i, v := range vs {
			d[i] = time.Duration(v) * time.Millisecond
		}
		return d
	}
	tests := []struct {
		name string
		in   []time.Duration
		ps   []float64
		want []time.Duration
	}{
		{"empty", nil, []float64{50, 99}, ms(0, 0)},
		{"single", ms(7), []float64{50, 99, 100}, ms(7, 7, 7)},
		{"unsorted ten", ms(10, 1, 9, 2, 8, 3, 7, 4, 6, 5), []float64{50, 95, 99, 100}, ms(5, 10, 10, 10)},
		{"hundred nearest rank", ms(seqInts(1, 100)...), []float64{50, 95, 99, 100}, ms(50, 95, 99, 100)},
		{"zero percentile is min", ms(3, 1, 2), []float64{0}, ms(1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := percentiles(slices.Clone(tc.in), tc.ps...)
			if !slices.Equal(got, tc.want) {
				t.Errorf("percentiles(%v, %v) = %v, want %v", tc.in, tc.ps, got, tc.want)
			}
		})
	}
}

func seqInts(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func TestExpectedCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                    string
		topic, topics, messages int
		want                    int
	}{
		{"one topic", 0, 1, 200, 200},
		{"even split", 3, 4, 8, 2},
		{"first topic gets remainder", 0, 3, 10, 4},
		{"last topic short", 2, 3, 10, 3},
		{"topic beyond messages", 5, 10, 3, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := expectedCount(tc.topic, tc.topics, tc.messages); got != tc.want {
				t.Errorf("expectedCount(%d, %d, %d) = %d, want %d", tc.topic, tc.topics, tc.messages, got, tc.want)
			}
		})
	}
}

func TestSeqTracker(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                    string
		topic, topics, messages int
		seqs                    []int64
		wantOutcomes            []recordOutcome
		wantUnique, wantLost    int
		wantDup, wantUnexpected int
	}{
		{
			name: "all delivered once", topic: 0, topics: 1, messages: 3,
			seqs:         []int64{0, 1, 2},
			wantOutcomes: []recordOutcome{recordNew, recordNew, recordNew},
			wantUnique:   3,
		},
		{
			name: "lost and duplicated", topic: 1, topics: 3, messages: 10, // expects 1, 4, 7
			seqs:         []int64{4, 1, 4, 4},
			wantOutcomes: []recordOutcome{recordNew, recordNew, recordDuplicate, recordDuplicate},
			wantUnique:   2, wantLost: 1, wantDup: 2,
		},
		{
			name: "other topic and out of range", topic: 1, topics: 3, messages: 10,
			seqs:         []int64{0, 2, 10, 13, -2, 7},
			wantOutcomes: []recordOutcome{recordUnexpected, recordUnexpected, recordUnexpected, recordUnexpected, recordUnexpected, recordNew},
			wantUnique:   1, wantLost: 2, wantUnexpected: 5,
		},
		{
			name: "crosses bitset words", topic: 0, topics: 1, messages: 130,
			seqs:         []int64{63, 64, 129, 64},
			wantOutcomes: []recordOutcome{recordNew, recordNew, recordNew, recordDuplicate},
			wantUnique:   3, wantLost: 127, wantDup: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := newSeqTracker(tc.topic, tc.topics, tc.messages)
			var got []recordOutcome
			for _, s := range tc.seqs {
				got = append(got, tr.record(s))
			}
			if !slices.Equal(got, tc.wantOutcomes) {
				t.Errorf("outcomes = %v, want %v", got, tc.wantOutcomes)
			}
			if tr.unique != tc.wantUnique || tr.lost() != tc.wantLost || tr.duplicated != tc.wantDup || tr.unexpected != tc.wantUnexpected {
				t.Errorf("unique %d lost %d dup %d unexpected %d, want %d %d %d %d",
					tr.unique, tr.lost(), tr.duplicated, tr.unexpected,
					tc.wantUnique, tc.wantLost, tc.wantDup, tc.wantUnexpected)
			}
		})
	}
}

func TestTallyAdd(t *testing.T) {
	t.Parallel()
	a := newSeqTracker(0, 2, 5) // expects 0, 2, 4
	a.record(0)
	a.record(0)
	b := newSeqTracker(1, 2, 5) // expects 1, 3
	b.record(1)
	b.record(3)
	b.record(4)
	var tl tally
	tl.add(a)
	tl.add(b)
	want := tally{expected: 5, delivered: 3, lost: 2, duplicated: 1, unexpected: 1}
	if tl.expected != want.expected || tl.delivered != want.delivered || tl.lost != want.lost ||
		tl.duplicated != want.duplicated || tl.unexpected != want.unexpected {
		t.Errorf("tally = %+v, want %+v", tl, want)
	}
}

func TestParseDelivery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		frame   string
		seq, ts int64
		ok      bool
	}{
		{"router frame", `{"event":"message","subscription":"bench.t0","data":{"seq":12,"ts":1763900000123456789,"pad":"xx"}}`, 12, 1763900000123456789, true},
		{"spaces and sorted keys", `{"data": {"pad": "x", "seq" : 3, "ts":	44}, "event": "message"}`, 3, 44, true},
		{"key text in a value first", `{"subscription":"ts.t0","data":{"note":"\"seq\"","seq":5,"ts":6}}`, 5, 6, true},
		{"subscribe reply", `{"event":"subscribe","subscription":"bench.t0","status":"ok"}`, 0, 0, false},
		{"missing ts", `{"data":{"seq":1}}`, 0, 0, false},
		{"string seq", `{"data":{"seq":"1","ts":2}}`, 0, 0, false},
		{"negative ts", `{"data":{"seq":1,"ts":-2}}`, 0, 0, false},
		{"overflow", `{"data":{"seq":99999999999999999999,"ts":2}}`, 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			seq, ts, ok := parseDelivery([]byte(tc.frame))
			if ok != tc.ok || (ok && (seq != tc.seq || ts != tc.ts)) {
				t.Errorf("parseDelivery(%s) = %d, %d, %v; want %d, %d, %v", tc.frame, seq, ts, ok, tc.seq, tc.ts, tc.ok)
			}
		})
	}
}

func TestEncodeMessage(t *testing.T) {
	t.Parallel()
	const ts = int64(1763900000123456789)
	tests := []struct {
		name     string
		seq      int
		payload  int
		wantData int // length of the data object
	}{
		{"padded to payload", 7, 100, 100},
		{"large seq padded", 123456, 100, 100},
		{"payload too small for fields", 7, 10, len(`{"seq":7,"ts":1763900000123456789,"pad":""}`)},
		{"big payload", 1, 4096, 4096},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := encodeMessage(nil, "bench.t3", tc.seq, ts, tc.payload)
			var m struct {
				Subscription string          `json:"subscription"`
				Data         json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("not JSON: %v: %s", err, b)
			}
			if m.Subscription != "bench.t3" {
				t.Errorf("subscription = %q", m.Subscription)
			}
			if len(m.Data) != tc.wantData {
				t.Errorf("data is %d bytes, want %d: %s", len(m.Data), tc.wantData, m.Data)
			}
			seq, gotTS, ok := parseDelivery(b)
			if !ok || seq != int64(tc.seq) || gotTS != ts {
				t.Errorf("parseDelivery = %d, %d, %v; want %d, %d", seq, gotTS, ok, tc.seq, ts)
			}
		})
	}
}
