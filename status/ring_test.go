package status

import (
	"testing"
	"time"
)

func TestRing(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_700_000_000, 0)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 5 * time.Second) }
	cases := []struct {
		name     string
		capacity int
		adds     int
		since    int   // index of the first sample time asked for
		want     []int // Connections of the samples returned, oldest first
	}{
		{"empty", 3, 0, 0, []int{}},
		{"partly filled", 3, 2, 0, []int{0, 1}},
		{"exactly full", 3, 3, 0, []int{0, 1, 2}},
		{"wrapped once: the oldest is overwritten", 3, 4, 0, []int{1, 2, 3}},
		{"wrapped several times", 3, 10, 0, []int{7, 8, 9}},
		{"since cuts older samples", 5, 5, 3, []int{3, 4}},
		{"since after the newest", 5, 5, 9, []int{}},
		{"since within a wrapped ring", 4, 9, 6, []int{6, 7, 8}},
		{"capacity below one holds one", 0, 3, 0, []int{2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRing(tc.capacity)
			for i := range tc.adds {
				r.add(Sample{At: at(i), Connections: float64(i)})
			}
			got := r.since(at(tc.since))
			if len(got) != len(tc.want) || r.len() != min(tc.adds, max(tc.capacity, 1)) {
				t.Fatalf("since(%d) gave %d samples (ring holds %d), want %v", tc.since, len(got), r.len(), tc.want)
			}
			for i, s := range got {
				if int(s.Connections) != tc.want[i] || !s.At.Equal(at(tc.want[i])) {
					t.Errorf("sample %d = %v at %v, want %d", i, s.Connections, s.At, tc.want[i])
				}
			}
		})
	}
}
