package main

import (
	"bytes"
	"math"
	"slices"
	"time"
)

// recordOutcome classifies one received sequence number.
type recordOutcome int

const (
	recordNew        recordOutcome = iota // first arrival of an expected seq
	recordDuplicate                       // an expected seq that already arrived
	recordUnexpected                      // a seq this subscription never expects
)

// seqTracker records which of one subscription's expected sequence numbers
// arrived. Messages go round-robin over the topics, so topic k of T expects
// seq k, k+T, k+2T, ... below the message count; bit i of seen stands for
// seq k+i*T.
type seqTracker struct {
	topic      int
	topics     int
	expected   int
	seen       []uint64
	unique     int
	duplicated int
	unexpected int
}

func newSeqTracker(topic, topics, messages int) *seqTracker {
	n := expectedCount(topic, topics, messages)
	return &seqTracker{topic: topic, topics: topics, expected: n, seen: make([]uint64, (n+63)/64)}
}

// expectedCount is how many of seq 0..messages-1 fall on topic.
func expectedCount(topic, topics, messages int) int {
	if topic >= messages {
		return 0
	}
	return (messages - topic + topics - 1) / topics
}

func (t *seqTracker) record(seq int64) recordOutcome {
	if seq < int64(t.topic) || (seq-int64(t.topic))%int64(t.topics) != 0 {
		t.unexpected++
		return recordUnexpected
	}
	i := (seq - int64(t.topic)) / int64(t.topics)
	if i >= int64(t.expected) {
		t.unexpected++
		return recordUnexpected
	}
	word, bit := i/64, uint64(1)<<(i%64)
	if t.seen[word]&bit != 0 {
		t.duplicated++
		return recordDuplicate
	}
	t.seen[word] |= bit
	t.unique++
	return recordNew
}

// lost is how many expected messages did not arrive.
func (t *seqTracker) lost() int { return t.expected - t.unique }

// tally is the merged record of all clients.
type tally struct {
	expected   int64
	delivered  int64
	lost       int64
	duplicated int64
	unexpected int64
	dropped    int64
	lastNS     int64
	latencies  []time.Duration
}

func (t *tally) add(s *seqTracker) {
	t.expected += int64(s.expected)
	t.delivered += int64(s.unique)
	t.lost += int64(s.lost())
	t.duplicated += int64(s.duplicated)
	t.unexpected += int64(s.unexpected)
}

// percentiles returns the nearest-rank percentiles ps of d, sorting d in
// place; all zero when d is empty.
func percentiles(d []time.Duration, ps ...float64) []time.Duration {
	out := make([]time.Duration, len(ps))
	if len(d) == 0 {
		return out
	}
	slices.Sort(d)
	for i, p := range ps {
		rank := int(math.Ceil(p / 100 * float64(len(d))))
		out[i] = d[min(max(rank, 1), len(d))-1]
	}
	return out
}

// parseDelivery finds the integer "seq" and "ts" fields of a delivery
// without decoding the whole frame.
func parseDelivery(b []byte) (seq, ts int64, ok bool) {
	seq, ok = intField(b, []byte(`"seq"`))
	if !ok {
		return 0, 0, false
	}
	ts, ok = intField(b, []byte(`"ts"`))
	return seq, ts, ok
}

// intField returns the non-negative integer value of the first occurrence of
// key (quoted) that is followed by a colon.
func intField(b, key []byte) (int64, bool) {
	for {
		i := bytes.Index(b, key)
		if i < 0 {
			return 0, false
		}
		b = b[i+len(key):]
		j := skipSpace(b, 0)
		if j >= len(b) || b[j] != ':' {
			continue
		}
		j = skipSpace(b, j+1)
		var v int64
		digits := 0
		for ; j < len(b) && b[j] >= '0' && b[j] <= '9'; j++ {
			if v > (math.MaxInt64-9)/10 {
				return 0, false
			}
			v = v*10 + int64(b[j]-'0')
			digits++
		}
		return v, digits > 0
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
