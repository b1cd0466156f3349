package main

// maxMissing bounds the sequence numbers a checker remembers as missing;
// a larger gap counts its excess as lost at once.
const maxMissing = 4096

// sequence checks the messages one subscription received: from the first
// one on, every sequence number exactly once and in order. A number that
// skips ahead marks the ones between as missing; a missing one arriving
// later is reordered, any other number at or below the highest seen is a
// duplicate. What is still missing at the end is lost.
type sequence struct {
	floor    int64 // with hasFloor: every number from it on must arrive
	hasFloor bool
	started  bool
	next     int64 // the number expected next
	missing  map[int64]struct{}
	received int64
	lost     int64 // lost beyond maxMissing, and at the end
	dups     int64
	reorders int64
}

// expectFrom sets the first number that must arrive: the first published
// after the subscribe was confirmed. Earlier ones may arrive too; a first
// message above it means the ones between are missing.
func (s *sequence) expectFrom(first int64) {
	s.floor, s.hasFloor = first, true
}

// add records one received sequence number.
func (s *sequence) add(n int64) {
	s.received++
	switch {
	case !s.started:
		s.started = true
		s.next = n
		if s.hasFloor && n > s.floor {
			s.next = s.floor
		}
		s.add(n)
		s.received--
	case n == s.next:
		s.next++
	case n > s.next:
		for m := s.next; m < n; m++ {
			if len(s.missing) >= maxMissing {
				s.lost += n - m
				break
			}
			if s.missing == nil {
				s.missing = make(map[int64]struct{})
			}
			s.missing[m] = struct{}{}
		}
		s.next = n + 1
	default:
		if _, ok := s.missing[n]; ok {
			delete(s.missing, n)
			s.reorders++
			return
		}
		s.dups++
	}
}

// finish ends the check once every number up to last must have arrived,
// and returns the lost count. Numbers above last are not expected; last
// below the first number means nothing was expected.
func (s *sequence) finish(last int64) int64 {
	if !s.started && s.hasFloor && last >= s.floor {
		s.lost += last - s.floor + 1
	}
	if s.started && last >= s.next {
		s.lost += last - s.next + 1
		s.next = last + 1
	}
	s.lost += int64(len(s.missing))
	s.missing = nil
	return s.lost
}

// caughtUp reports whether every number up to last has arrived.
func (s *sequence) caughtUp(last int64) bool {
	if !s.started {
		return !s.hasFloor || last < s.floor
	}
	return s.next > last && len(s.missing) == 0
}
