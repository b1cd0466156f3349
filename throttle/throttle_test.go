package throttle

import (
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/clock"
)

// sent is one call of send as seen by a recorder: the message and how long
// after the start of the test it went out.
type sent struct {
	msg string
	at  time.Duration
}

// recorder collects the calls of send against a manual clock.
type recorder struct {
	clock *clock.Manual
	start time.Time

	mu   sync.Mutex
	sent []sent
}

func newRecorder(c *clock.Manual) *recorder {
	return &recorder{clock: c, start: c.Now()}
}

func (r *recorder) send(msg string) {
	at := r.clock.Now().Sub(r.start)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, sent{msg: msg, at: at})
}

func (r *recorder) got() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sent)
}

// offer is one call of Offer at a time after the start of a test.
type offer struct {
	at     time.Duration
	key    string
	period time.Duration
	msg    string
}

const ms = time.Millisecond

func TestOffer(t *testing.T) {
	t.Parallel()
	const p = 300 * ms
	stream := make([]offer, 10)
	for i := range stream {
		stream[i] = offer{at: time.Duration(i) * p / 3, period: p, msg: string(rune('0' + i))}
	}
	tests := []struct {
		name   string
		offers []offer
		want   []sent
	}{
		{
			name:   "first message goes out at once",
			offers: []offer{{at: 0, period: time.Second, msg: "a"}},
			want:   []sent{{"a", 0}},
		},
		{
			name: "burst keeps only the newest for last send plus period",
			offers: []offer{
				{at: 0, period: time.Second, msg: "a"},
				{at: 100 * ms, period: time.Second, msg: "b"},
				{at: 200 * ms, period: time.Second, msg: "c"},
				{at: 300 * ms, period: time.Second, msg: "d"},
			},
			want: []sent{{"a", 0}, {"d", time.Second}},
		},
		{
			name:   "long stream sends one per period then the last",
			offers: stream,
			want: []sent{
				{"0", 0}, {"2", p}, {"5", 2 * p}, {"8", 3 * p}, {"9", 4 * p},
			},
		},
		{
			name: "keys are independent",
			offers: []offer{
				{at: 0, key: "a", period: time.Second, msg: "a1"},
				{at: 100 * ms, key: "b", period: time.Second, msg: "b1"},
				{at: 200 * ms, key: "a", period: time.Second, msg: "a2"},
				{at: 300 * ms, key: "b", period: time.Second, msg: "b2"},
			},
			want: []sent{{"a1", 0}, {"b1", 100 * ms}, {"a2", time.Second}, {"b2", 1100 * ms}},
		},
		{
			name: "zero period sends every message at once",
			offers: []offer{
				{at: 0, msg: "a"}, {at: 0, msg: "b"}, {at: 10 * ms, msg: "c"},
			},
			want: []sent{{"a", 0}, {"b", 0}, {"c", 10 * ms}},
		},
		{
			name: "negative period sends every message at once",
			offers: []offer{
				{at: 0, period: -time.Second, msg: "a"},
				{at: 0, period: -1, msg: "b"},
			},
			want: []sent{{"a", 0}, {"b", 0}},
		},
		{
			name: "message after the period goes out at once",
			offers: []offer{
				{at: 0, period: time.Second, msg: "a"},
				{at: time.Second, period: time.Second, msg: "b"},
				{at: 1500 * ms, period: time.Second, msg: "c"},
			},
			want: []sent{{"a", 0}, {"b", time.Second}, {"c", 2 * time.Second}},
		},
		{
			name: "key state released after idle still throttles anew",
			offers: []offer{
				{at: 0, period: time.Second, msg: "a"},
				{at: 5 * time.Second, period: time.Second, msg: "b"},
				{at: 5100 * ms, period: time.Second, msg: "c"},
			},
			want: []sent{{"a", 0}, {"b", 5 * time.Second}, {"c", 6 * time.Second}},
		},
		{
			name: "unthrottled message supersedes a pending one",
			offers: []offer{
				{at: 0, period: time.Second, msg: "a"},
				{at: 100 * ms, period: time.Second, msg: "b"},
				{at: 200 * ms, msg: "c"},
			},
			want: []sent{{"a", 0}, {"c", 200 * ms}},
		},
		{
			name: "shorter period moves the pending send earlier",
			offers: []offer{
				{at: 0, period: time.Second, msg: "a"},
				{at: 100 * ms, period: time.Second, msg: "b"},
				{at: 200 * ms, period: 500 * ms, msg: "c"},
			},
			want: []sent{{"a", 0}, {"c", 500 * ms}},
		},
		{
			name: "longer period moves the pending send later",
			offers: []offer{
				{at: 0, period: time.Second, msg: "a"},
				{at: 100 * ms, period: time.Second, msg: "b"},
				{at: 200 * ms, period: 2 * time.Second, msg: "c"},
			},
			want: []sent{{"a", 0}, {"c", 2 * time.Second}},
		},
		{
			name: "period already elapsed under the new value sends at once",
			offers: []offer{
				{at: 0, period: time.Second, msg: "a"},
				{at: 100 * ms, period: time.Second, msg: "b"},
				{at: 600 * ms, period: 500 * ms, msg: "c"},
			},
			want: []sent{{"a", 0}, {"c", 600 * ms}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := newManualClock()
			rec := newRecorder(clock)
			th := New(clock, rec.send)
			var now time.Duration
			for _, o := range tc.offers {
				clock.Advance(o.at - now)
				now = o.at
				th.Offer(o.key, o.period, o.msg)
			}
			clock.Advance(time.Minute)
			if got := rec.got(); !slices.Equal(got, tc.want) {
				t.Fatalf("sent %v; want %v", got, tc.want)
			}
			if n := th.Pending(); n != 0 {
				t.Fatalf("Pending() = %d after all periods elapsed; want 0", n)
			}
			if n := keyCount(th); n != 0 {
				t.Fatalf("%d keys kept after all periods elapsed; want 0", n)
			}
			if n := clock.Pending(); n != 0 {
				t.Fatalf("%d timers armed after all periods elapsed; want 0", n)
			}
		})
	}
}

func keyCount[T any](th *Throttle[T]) int {
	th.mu.Lock()
	defer th.mu.Unlock()
	return len(th.keys)
}

func TestPending(t *testing.T) {
	t.Parallel()
	clock := newManualClock()
	rec := newRecorder(clock)
	th := New(clock, rec.send)
	th.Offer("a", time.Second, "a1")
	th.Offer("b", time.Second, "b1")
	if n := th.Pending(); n != 0 {
		t.Fatalf("Pending() = %d after first messages; want 0", n)
	}
	th.Offer("a", time.Second, "a2")
	th.Offer("a", time.Second, "a3")
	th.Offer("b", time.Second, "b2")
	if n := th.Pending(); n != 2 {
		t.Fatalf("Pending() = %d; want 2", n)
	}
	// One sweep timer plus one timer per pending key.
	if n := clock.Pending(); n != 3 {
		t.Fatalf("%d timers armed; want 3", n)
	}
	clock.Advance(time.Second)
	if n := th.Pending(); n != 0 {
		t.Fatalf("Pending() = %d after the period; want 0", n)
	}
	want := []sent{{"a1", 0}, {"b1", 0}, {"a3", time.Second}, {"b2", time.Second}}
	if got := rec.got(); !slices.Equal(got, want) {
		t.Fatalf("sent %v; want %v", got, want)
	}
}

func TestStop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		stops int
	}{
		{name: "once", stops: 1},
		{name: "twice", stops: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := newManualClock()
			rec := newRecorder(clock)
			th := New(clock, rec.send)
			th.Offer("a", time.Second, "a1")
			th.Offer("a", time.Second, "a2")
			th.Offer("b", time.Second, "b1")
			th.Offer("b", time.Second, "b2")
			for range tc.stops {
				th.Stop()
			}
			if n := th.Pending(); n != 0 {
				t.Fatalf("Pending() = %d after Stop; want 0", n)
			}
			if n := clock.Pending(); n != 0 {
				t.Fatalf("%d timers armed after Stop; want 0", n)
			}
			th.Offer("a", time.Second, "a3")
			th.Offer("c", 0, "c1")
			clock.Advance(time.Minute)
			want := []sent{{"a1", 0}, {"b1", 0}}
			if got := rec.got(); !slices.Equal(got, want) {
				t.Fatalf("sent %v; want %v", got, want)
			}
		})
	}
}

// A timer that fired before Stop but reached the lock after it must not
// send.
func TestStopBeatsFiredTimer(t *testing.T) {
	t.Parallel()
	clock := newManualClock()
	rec := newRecorder(clock)
	th := New(clock, rec.send)
	th.Offer("a", time.Second, "a1")
	th.Offer("a", time.Second, "a2")
	th.mu.Lock()
	fire := th.keys["a"]
	th.mu.Unlock()
	th.Stop()
	th.fire("a", fire.gen) // as if the timer had fired just before Stop
	if got := rec.got(); len(got) != 1 {
		t.Fatalf("sent %v; want only the first message", got)
	}
}

// A stale timer, one replaced by a later arming, must not send.
func TestStaleTimerIgnored(t *testing.T) {
	t.Parallel()
	clock := newManualClock()
	rec := newRecorder(clock)
	th := New(clock, rec.send)
	th.Offer("a", time.Second, "a1")
	th.Offer("a", time.Second, "a2")
	th.mu.Lock()
	stale := th.keys["a"].gen
	th.mu.Unlock()
	th.Offer("a", 2*time.Second, "a3") // re-arms with a new generation
	th.fire("a", stale)
	if got := rec.got(); len(got) != 1 {
		t.Fatalf("sent %v; want only the first message", got)
	}
	clock.Advance(2 * time.Second)
	want := []sent{{"a1", 0}, {"a3", 2 * time.Second}}
	if got := rec.got(); !slices.Equal(got, want) {
		t.Fatalf("sent %v; want %v", got, want)
	}
}

func TestStopWaitsForSendInProgress(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	release := make(chan struct{})
	th := New(newManualClock(), func(string) {
		close(entered)
		<-release
	})
	go th.Offer("", 0, "a")
	<-entered
	stopped := make(chan struct{})
	go func() {
		th.Stop()
		close(stopped)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		th.mu.Lock()
		s := th.stopped
		th.mu.Unlock()
		if s {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Stop did not start")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case <-stopped:
		t.Fatal("Stop returned while send was still running")
	default:
	}
	close(release)
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return after send finished")
	}
}

func TestSendMayOffer(t *testing.T) {
	t.Parallel()
	clock := newManualClock()
	rec := newRecorder(clock)
	var th *Throttle[string]
	th = New(clock, func(msg string) {
		rec.send(msg)
		if msg == "a" {
			th.Offer("", 0, "b")
			th.Offer("k", time.Second, "c")
			th.Offer("k", time.Second, "d")
			_ = th.Pending()
		}
	})
	th.Offer("", 0, "a")
	clock.Advance(time.Second)
	want := []sent{{"a", 0}, {"b", 0}, {"c", 0}, {"d", time.Second}}
	if got := rec.got(); !slices.Equal(got, want) {
		t.Fatalf("sent %v; want %v", got, want)
	}
}

// TestOfferReportsDiscarded: Offer says when it replaced a pending message,
// which is what the router counts as dropped by the throttle.
func TestOfferReportsDiscarded(t *testing.T) {
	t.Parallel()
	c := newManualClock()
	r := newRecorder(c)
	th := New(c, r.send)
	steps := []struct {
		name    string
		key     string
		period  time.Duration
		discard bool
	}{
		{"first goes at once", "", 100 * ms, false},
		{"second becomes pending", "", 100 * ms, false},
		{"third replaces the second", "", 100 * ms, true},
		{"other key is independent", "k", 100 * ms, false},
		{"period 0 supersedes the pending one", "", 0, true},
		{"nothing pending any more", "", 0, false},
	}
	for _, st := range steps {
		if got := th.Offer(st.key, st.period, st.name); got != st.discard {
			t.Errorf("%s: Offer discarded = %v, want %v", st.name, got, st.discard)
		}
	}
}

func TestKeysBounded(t *testing.T) {
	t.Parallel()
	type step struct {
		advance time.Duration
		key     string
		msg     string
	}
	tests := []struct {
		name     string
		maxKeys  int
		steps    []step
		wantSent []string // in order, including pending ones flushed by Advance(time.Hour) at the end
		wantKeys []string // kept before that final Advance
	}{
		{
			name:    "the key that sent least recently is forgotten",
			maxKeys: 2,
			steps: []step{
				{0, "a", "a1"}, {0, "b", "b1"}, {0, "c", "c1"},
				{0, "a", "a2"}, // a was forgotten: sent at once, as new
			},
			wantSent: []string{"a1", "b1", "c1", "a2"},
			wantKeys: []string{"a", "c"},
		},
		{
			name:    "a forgotten key's pending message goes out at once",
			maxKeys: 2,
			steps: []step{
				{0, "a", "a1"}, {0, "a", "a2"}, // a2 pending
				{0, "b", "b1"},
				{0, "c", "c1"}, // forgets a: a2 goes out, before c1
			},
			wantSent: []string{"a1", "b1", "a2", "c1"},
			wantKeys: []string{"b", "c"},
		},
		{
			name:    "a send makes a key recent again",
			maxKeys: 2,
			steps: []step{
				{0, "a", "a1"}, {0, "b", "b1"},
				{2 * time.Second, "a", "a2"}, // a's period is over: sent, a is newest
				{0, "c", "c1"},               // forgets b, not a
				{0, "a", "a3"},               // pending: a is still kept
			},
			wantSent: []string{"a1", "b1", "a2", "c1", "a3"},
			wantKeys: []string{"a", "c"},
		},
		{
			name:    "the default bound",
			maxKeys: 0,
			steps: func() []step {
				var st []step
				for i := range DefaultMaxKeys + 1 {
					st = append(st, step{0, strconv.Itoa(i), strconv.Itoa(i)})
				}
				return append(st, step{0, "0", "again"}) // forgotten: sent at once
			}(),
			wantSent: func() []string {
				var s []string
				for i := range DefaultMaxKeys + 1 {
					s = append(s, strconv.Itoa(i))
				}
				return append(s, "again")
			}(),
			wantKeys: nil, // not listed: DefaultMaxKeys of them
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newManualClock()
			var sent []string
			th := NewLimited(clock, tt.maxKeys, func(m string) { sent = append(sent, m) })
			for _, st := range tt.steps {
				clock.Advance(st.advance)
				th.Offer(st.key, time.Second, st.msg)
			}
			limit := tt.maxKeys
			if limit <= 0 {
				limit = DefaultMaxKeys
			}
			if n := keyCount(th); n > limit {
				t.Errorf("%d keys kept, want at most %d", n, limit)
			}
			if tt.wantKeys != nil {
				var kept []string
				th.mu.Lock()
				for k := range th.keys {
					kept = append(kept, k)
				}
				th.mu.Unlock()
				slices.Sort(kept)
				if !slices.Equal(kept, tt.wantKeys) {
					t.Errorf("keys kept = %v, want %v", kept, tt.wantKeys)
				}
			}
			clock.Advance(time.Hour)
			if !slices.Equal(sent, tt.wantSent) {
				t.Errorf("sent = %v, want %v", sent, tt.wantSent)
			}
			if n := clock.Pending(); n != 0 {
				t.Errorf("%d timers armed at the end, want 0", n)
			}
		})
	}
}
