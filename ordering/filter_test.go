package ordering

import (
	"strconv"
	"testing"
)

// step is one call on a Filter and the answer expected from Allow.
type step struct {
	seed  bool
	key   string
	order float64
	want  bool
}

func TestFilterAllow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "first message passes", steps: []step{
			{key: "", order: 1, want: true},
		}},
		{name: "equal order dropped", steps: []step{
			{key: "", order: 5, want: true},
			{key: "", order: 5, want: false},
		}},
		{name: "lower order dropped", steps: []step{
			{key: "", order: 5, want: true},
			{key: "", order: 4, want: false},
			{key: "", order: 6, want: true},
		}},
		{name: "dropped order does not lower the mark", steps: []step{
			{key: "", order: 10, want: true},
			{key: "", order: 3, want: false},
			{key: "", order: 4, want: false},
		}},
		{name: "negative orders", steps: []step{
			{key: "", order: -10, want: true},
			{key: "", order: -11, want: false},
			{key: "", order: -9.5, want: true},
			{key: "", order: -9.5, want: false},
		}},
		{name: "fractional orders", steps: []step{
			{key: "k", order: 1.25, want: true},
			{key: "k", order: 1.2, want: false},
			{key: "k", order: 1.250001, want: true},
		}},
		{name: "keys are independent", steps: []step{
			{key: `"a"`, order: 5, want: true},
			{key: `"b"`, order: 1, want: true},
			{key: "", order: 1, want: true},
			{key: `"a"`, order: 2, want: false},
			{key: `"b"`, order: 2, want: true},
		}},
		{name: "string and number keys differ", steps: []step{
			{key: `"1"`, order: 5, want: true},
			{key: `1`, order: 5, want: true},
		}},
		{name: "seed then allow", steps: []step{
			{seed: true, key: "", order: 7},
			{key: "", order: 7, want: false},
			{key: "", order: 6, want: false},
			{key: "", order: 8, want: true},
		}},
		{name: "seed with key", steps: []step{
			{seed: true, key: `"x"`, order: 3},
			{key: `"x"`, order: 2, want: false},
			{key: `"y"`, order: 2, want: true},
		}},
		{name: "seed never lowers", steps: []step{
			{key: "", order: 9, want: true},
			{seed: true, key: "", order: 1},
			{key: "", order: 5, want: false},
		}},
		{name: "nan never passes", steps: []step{
			{key: "", order: nan(), want: false},
			{key: "", order: 1, want: true},
			{key: "", order: nan(), want: false},
			{key: "", order: 2, want: true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := New(0)
			for i, s := range tc.steps {
				if s.seed {
					f.Seed(s.key, s.order)
					continue
				}
				if got := f.Allow(s.key, s.order); got != s.want {
					t.Fatalf("step %d: Allow(%q, %v) = %v; want %v", i, s.key, s.order, got, s.want)
				}
			}
		})
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

func TestFilterBoundedKeys(t *testing.T) {
	t.Parallel()
	const maxKeys = 1024
	const total = 100_000
	f := New(maxKeys)
	keys := make([]string, total)
	for i := range keys {
		keys[i] = strconv.Itoa(i)
		if !f.Allow(keys[i], 1) {
			t.Fatalf("new key %q was dropped", keys[i])
		}
		if f.Len() > maxKeys {
			t.Fatalf("after %d keys Len() = %d; want at most %d", i+1, f.Len(), maxKeys)
		}
	}
	if f.Len() != maxKeys {
		t.Fatalf("Len() = %d; want %d", f.Len(), maxKeys)
	}
	if len(f.slots) != maxKeys {
		t.Fatalf("slot storage grew to %d; want %d", len(f.slots), maxKeys)
	}
	// The newest maxKeys keys are remembered: an equal order is dropped.
	for _, k := range keys[total-maxKeys:] {
		if f.Allow(k, 1) {
			t.Fatalf("remembered key %q accepted an equal order", k)
		}
	}
	// An older key was forgotten and accepts its next message as new.
	if !f.Allow(keys[0], 1) {
		t.Fatal("forgotten key dropped its next message; want it treated as new")
	}
	// The default key does not take a map slot and is never forgotten.
	f.Allow("", 100)
	if f.Len() != maxKeys+1 {
		t.Fatalf("Len() with default key = %d; want %d", f.Len(), maxKeys+1)
	}
	if len(f.index) != maxKeys {
		t.Fatalf("default key took a map entry: %d entries", len(f.index))
	}
	for _, k := range keys[:maxKeys] {
		f.Allow(k, 1000)
	}
	if f.Allow("", 100) {
		t.Fatal("default key was forgotten")
	}
}

func TestFilterEvictsLeastRecentlyUpdated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		steps     []step
		wantOrder []string // most to least recently updated
	}{
		{name: "oldest insert evicted", steps: []step{
			{key: "a", order: 1, want: true},
			{key: "b", order: 1, want: true},
			{key: "c", order: 1, want: true},
			{key: "d", order: 1, want: true},
		}, wantOrder: []string{"d", "c", "b"}},
		{name: "update refreshes key", steps: []step{
			{key: "a", order: 1, want: true},
			{key: "b", order: 1, want: true},
			{key: "c", order: 1, want: true},
			{key: "a", order: 2, want: true},
			{key: "d", order: 1, want: true},
		}, wantOrder: []string{"d", "a", "c"}},
		{name: "dropped message does not refresh key", steps: []step{
			{key: "a", order: 5, want: true},
			{key: "b", order: 1, want: true},
			{key: "c", order: 1, want: true},
			{key: "a", order: 2, want: false},
			{key: "d", order: 1, want: true},
		}, wantOrder: []string{"d", "c", "b"}},
		{name: "seed refreshes key", steps: []step{
			{key: "a", order: 1, want: true},
			{key: "b", order: 1, want: true},
			{key: "c", order: 1, want: true},
			{seed: true, key: "a", order: 3},
			{key: "d", order: 1, want: true},
			{key: "e", order: 1, want: true},
		}, wantOrder: []string{"e", "d", "a"}},
		{name: "evicted key comes back as new", steps: []step{
			{key: "a", order: 9, want: true},
			{key: "b", order: 1, want: true},
			{key: "c", order: 1, want: true},
			{key: "d", order: 1, want: true},
			{key: "a", order: 1, want: true},
			{key: "c", order: 1, want: false},
		}, wantOrder: []string{"a", "d", "c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := New(3)
			for i, s := range tc.steps {
				if s.seed {
					f.Seed(s.key, s.order)
					continue
				}
				if got := f.Allow(s.key, s.order); got != s.want {
					t.Fatalf("step %d: Allow(%q, %v) = %v; want %v", i, s.key, s.order, got, s.want)
				}
			}
			got := recency(t, f)
			if len(got) != len(tc.wantOrder) {
				t.Fatalf("keys by recency = %v; want %v", got, tc.wantOrder)
			}
			for i := range got {
				if got[i] != tc.wantOrder[i] {
					t.Fatalf("keys by recency = %v; want %v", got, tc.wantOrder)
				}
			}
		})
	}
}

// recency walks the list from most to least recently updated and checks
// that it agrees with the index in both directions.
func recency(t *testing.T, f *Filter) []string {
	t.Helper()
	var keys []string
	prev := none
	for i := f.head; i != none; i = f.slots[i].next {
		s := f.slots[i]
		if s.prev != prev {
			t.Fatalf("slot %d prev = %d; want %d", i, s.prev, prev)
		}
		if f.index[s.key] != i {
			t.Fatalf("index[%q] = %d; want %d", s.key, f.index[s.key], i)
		}
		keys = append(keys, s.key)
		prev = i
	}
	if f.tail != prev {
		t.Fatalf("tail = %d; want %d", f.tail, prev)
	}
	if len(keys) != len(f.index) {
		t.Fatalf("list holds %d keys, index %d", len(keys), len(f.index))
	}
	return keys
}

func TestNewDefaultMaxKeys(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, -5} {
		if got := New(n).maxKeys; got != DefaultMaxKeys {
			t.Fatalf("New(%d).maxKeys = %d; want %d", n, got, DefaultMaxKeys)
		}
	}
}
