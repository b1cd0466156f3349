package router

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsrouter/wsrouter/metrics"
)

// FuzzPublication decodes a published message and passes it twice through
// a subscription's filters. A message is accepted exactly when it is a JSON
// object whose "subscription" is the channel's name and which has a "data"
// member (SPEC section 4); a delivery frame is a JSON object whose data is
// the message's, byte for byte; and the field filter, order and throttle
// decide which of the two copies go out.
func FuzzPublication(f *testing.F) {
	for _, seed := range []struct {
		payload string
		withTop bool
	}{
		{``, false},
		{`null`, false},
		{`[]`, false},
		{`{}`, false},
		{`{"subscription":"books.1"}`, false},
		{`{"subscription":"books.2","data":1}`, false},
		{`{"subscription":1,"data":1}`, false},
		{`{"subscription":"books.1","data":null}`, false},
		{`{"subscription":"books.1","data":{"a":[1,"\u2028",true]}}`, false},
		{"{\"subscription\":\"books.1\",\"data\":\"\xff\"}", false},
		{"{\"subscription\":\"books.1\",\"data\":{\"\xc3\x28\":1}}", false},
		{"{\"subscription\":\"books.1\",\"data\":1,\"user_id\":\"\xed\xa0\x80\"}", true},
		{"{\"subscription\":\"books.1\",\"data\":1,\"options\":{\"throttle_key\":\"\xfe\",\"throttle\":1}}", false},
		{` {"subscription":"books.1","data":1,"published_at":"2026-11-23T14:00:00.123456+00:00"}`, false},
		{`{"subscription":"books.1","data":1,"published_at":"2026-11-23 14:00:00Z"}`, false},
		{`{"subscription":"books.1","data":1,"published_at":"yesterday"}`, false},
		{`{"subscription":"books.1","data":1,"published_at":7}`, false},
		{`{"subscription":"books.1","data":1,"options":{"order":3}}`, false},
		{`{"subscription":"books.1","data":1,"options":{"order":"3.5","order_key":"k"}}`, false},
		{`{"subscription":"books.1","data":1,"options":{"order":"NaN"}}`, false},
		{`{"subscription":"books.1","data":1,"options":{"order":1e400}}`, false},
		{`{"subscription":"books.1","data":1,"options":{"throttle":0.5,"throttle_key":{"a":1}}}`, false},
		{`{"subscription":"books.1","data":1,"options":{"throttle":"x","order":[]}}`, false},
		{`{"subscription":"books.1","data":1,"options":[1]}`, false},
		{`{"subscription":"books.1","data":1,"user_id":7}`, true},
		{`{"subscription":"books.1","data":1,"user_id":"7"}`, true},
		{`{"subscription":"books.1","data":1,"user_id":7.0,"room":"r1","can_edit":true}`, true},
		{`{"subscription":"books.1","data":1,"room":"r2"}`, true},
		{`{"subscription":"books.1","data":1,"tenant":null}`, true},
		{`{"subscription":"books.1","data":1,"user_id":7,"options":{"order":2}}`, true},
	} {
		f.Add("books.1", []byte(seed.payload), seed.withTop)
	}
	f.Fuzz(func(t *testing.T, name string, payload []byte, withTop bool) {
		p, _, err := decodePublication(name, payload, withTop, false, time.Unix(0, 0))
		data, valid := referencePublication(name, payload)
		if (err == nil) != valid {
			t.Fatalf("decodePublication(%q, %q) error = %v, want accepted = %v", name, payload, err, valid)
		}
		if err != nil {
			return
		}
		if err := checkFrame(p.plain, name, data, nil); err != nil {
			t.Fatalf("plain frame %q of %q: %v", p.plain, payload, err)
		}
		filterFields := fuzzFilterFields
		if !withTop {
			filterFields = nil // the hub keeps top-level members only when the service filters
		}
		sub, sent := fuzzSubscription(t)
		first := sub.filter(p, filterFields, nil)
		second := sub.filter(p, filterFields, nil)
		sub.end() // stops the throttle, waiting for a send in progress
		sub.sess.out.wait()
		frames := sent()

		passes := !withTop || referencePasses(payload)
		o := p.opts
		if o == nil {
			o = &pubOptions{}
		}
		wantFirst := passes && !(o.hasOrder && math.IsNaN(o.order))
		wantSecond := passes && !o.hasOrder && o.throttle == 0
		minFrames, maxFrames := count(wantFirst, wantSecond), count(wantFirst, wantSecond)
		if o.throttle > 0 {
			// The throttle sends, not filter. Within a short period the
			// second copy may already have been sent when the
			// subscription ended.
			first, second = wantFirst, wantSecond
			if wantFirst && !o.hasOrder && o.throttle < time.Minute {
				maxFrames = 2
			}
		}
		if first != wantFirst || second != wantSecond {
			t.Fatalf("%q (options %+v): filter returned %v, %v; want %v, %v", payload, *o, first, second, wantFirst, wantSecond)
		}
		if len(frames) < minFrames || len(frames) > maxFrames {
			t.Fatalf("%q (options %+v): %d frames sent, want %d to %d", payload, *o, len(frames), minFrames, maxFrames)
		}
		for _, frame := range frames {
			if err := checkFrame(frame, name, data, fuzzExtra); err != nil {
				t.Fatalf("delivered frame %q of %q: %v", frame, payload, err)
			}
		}
	})
}

// fuzzFilterFields are the filter_fields of the fuzzed subscription's
// service: one extra field, one authorizer field, one auth field, and one
// the subscription has no value for.
var fuzzFilterFields = []string{"room", "can_edit", "user_id", "tenant"}

// fuzzExtra is the fuzzed subscription's extra field, echoed in its frames.
var fuzzExtra = map[string]any{"room": "r1"}

// fuzzOwn are the fuzzed subscription's own values of the filter fields.
var fuzzOwn = map[string]json.RawMessage{"room": json.RawMessage(`"r1"`), "can_edit": json.RawMessage(`true`), "user_id": json.RawMessage(`7`)}

// fuzzSubscription returns a subscription with no socket and no Redis, and
// the frames it sends.
func fuzzSubscription(t *testing.T) (*subscription, func() [][]byte) {
	r := &Router{metrics: metrics.New(), drops: dropCounters{
		filter: prometheus.NewCounter(prometheus.CounterOpts{Name: "filter"}),
		order:  prometheus.NewCounter(prometheus.CounterOpts{Name: "order"}),
	}}
	var mu sync.Mutex
	var sent [][]byte
	s := &session{r: r}
	s.out = newOutbox(16, 1<<30, func(b []byte) error {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, b)
		return nil
	}, func() { t.Error("outbox overflow") }, func(error) {})
	fs := &fieldSet{
		extra:      []field{{name: "room", value: fuzzOwn["room"]}},
		authorizer: map[string]json.RawMessage{"can_edit": fuzzOwn["can_edit"]},
		auth:       map[string]json.RawMessage{"user_id": fuzzOwn["user_id"]},
		extraNames: set([]string{"room"}),
		authzNames: set([]string{"can_edit"}),
	}
	sub := newSubscription(s, "books.1", "books", nil, fs)
	sub.live.Store(true)
	return sub, func() [][]byte {
		mu.Lock()
		defer mu.Unlock()
		return sent
	}
}

func count(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// referencePublication decides what decodePublication must: whether payload
// is accepted on the channel of name, and its "data" member. JSON text is
// UTF-8; encoding/json would take other bytes.
func referencePublication(name string, payload []byte) (json.RawMessage, bool) {
	var top map[string]json.RawMessage
	if !bytes.HasPrefix(bytes.TrimLeft(payload, " \t\r\n"), []byte("{")) || !utf8.Valid(payload) || json.Unmarshal(payload, &top) != nil {
		return nil, false
	}
	var sub string
	raw, ok := top["subscription"]
	if !ok || len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &sub) != nil || sub != name {
		return nil, false
	}
	data, ok := top["data"]
	return data, ok
}

// referencePasses applies the field filter of SPEC section 4 to payload.
func referencePasses(payload []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(payload, &top) != nil {
		return false
	}
	for _, name := range fuzzFilterFields {
		want, ok := top[name]
		if !ok {
			continue
		}
		own, has := fuzzOwn[name]
		if !has {
			return false
		}
		var a, b any
		if json.Unmarshal(own, &a) != nil || json.Unmarshal(want, &b) != nil || !reflect.DeepEqual(a, b) {
			return false
		}
	}
	return true
}

// checkFrame checks a delivery frame: a JSON object with the event, the
// subscription name, data equal to the published data byte for byte, and
// the extra fields.
func checkFrame(frame []byte, name string, data json.RawMessage, extra map[string]any) error {
	if !utf8.Valid(frame) {
		return fmt.Errorf("not UTF-8")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(frame, &members); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	if string(members["event"]) != `"message"` {
		return fmt.Errorf("event %s, want \"message\"", members["event"])
	}
	var sub string
	if json.Unmarshal(members["subscription"], &sub) != nil || sub != name {
		return fmt.Errorf("subscription %s, want %q", members["subscription"], name)
	}
	if !bytes.Equal(members["data"], data) {
		return fmt.Errorf("data %s, want %s", members["data"], data)
	}
	for k, v := range extra {
		var got any
		if json.Unmarshal(members[k], &got) != nil || !reflect.DeepEqual(got, v) {
			return fmt.Errorf("extra field %s is %s, want %v", k, members[k], v)
		}
	}
	return nil
}
