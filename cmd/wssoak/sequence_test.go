package main

import "testing"

func TestSequence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		from     int64 // expectFrom; 0 means not called
		got      []int64
		last     int64 // finish(last)
		lost     int64
		dups     int64
		reorders int64
	}{
		{name: "in order", got: []int64{5, 6, 7}, last: 7},
		{name: "in order from the floor", from: 5, got: []int64{5, 6, 7}, last: 7},
		{name: "earlier than the floor is fine", from: 5, got: []int64{3, 4, 5, 6}, last: 6},
		{name: "first above the floor", from: 5, got: []int64{7, 8}, last: 8, lost: 2},
		{name: "nothing received but expected", from: 5, last: 7, lost: 3},
		{name: "nothing received nor expected", from: 5, last: 4},
		{name: "nothing received without floor", last: 9},
		{name: "gap", got: []int64{1, 2, 5, 6}, last: 6, lost: 2},
		{name: "tail missing", got: []int64{1, 2}, last: 4, lost: 2},
		{name: "last below received", got: []int64{1, 2, 3}, last: 2},
		{name: "duplicate", got: []int64{1, 2, 2, 3}, last: 3, dups: 1},
		{name: "old duplicate", got: []int64{1, 2, 3, 1}, last: 3, dups: 1},
		{name: "reordered", got: []int64{1, 3, 2, 4}, last: 4, reorders: 1},
		{name: "reordered twice is a duplicate", got: []int64{1, 3, 2, 2}, last: 3, reorders: 1, dups: 1},
		{name: "reordered below a higher floor start", from: 2, got: []int64{3, 2}, last: 3, reorders: 1},
		{name: "gap beyond the memory", got: []int64{1, maxMissing + 11}, last: maxMissing + 11, lost: maxMissing + 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s sequence
			if tt.from != 0 {
				s.expectFrom(tt.from)
			}
			for _, n := range tt.got {
				s.add(n)
			}
			if s.received != int64(len(tt.got)) {
				t.Errorf("received = %d, want %d", s.received, len(tt.got))
			}
			lost := s.finish(tt.last)
			if lost != tt.lost || s.dups != tt.dups || s.reorders != tt.reorders {
				t.Errorf("lost, dups, reorders = %d, %d, %d; want %d, %d, %d", lost, s.dups, s.reorders, tt.lost, tt.dups, tt.reorders)
			}
		})
	}
}

func TestSequenceCaughtUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		from int64
		got  []int64
		last int64
		want bool
	}{
		{name: "nothing expected", last: 5, want: true},
		{name: "floor above last", from: 6, last: 5, want: true},
		{name: "floor reached, nothing received", from: 5, last: 5, want: false},
		{name: "received up to last", got: []int64{4, 5}, last: 5, want: true},
		{name: "one short", got: []int64{4}, last: 5, want: false},
		{name: "a hole", got: []int64{3, 5}, last: 5, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s sequence
			if tt.from != 0 {
				s.expectFrom(tt.from)
			}
			for _, n := range tt.got {
				s.add(n)
			}
			if got := s.caughtUp(tt.last); got != tt.want {
				t.Errorf("caughtUp(%d) = %v, want %v", tt.last, got, tt.want)
			}
		})
	}
}
