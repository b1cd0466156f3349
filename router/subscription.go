package router

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsrouter/wsrouter/control"
	"github.com/wsrouter/wsrouter/history"
	"github.com/wsrouter/wsrouter/ordering"
	"github.com/wsrouter/wsrouter/services"
	"github.com/wsrouter/wsrouter/throttle"
)

// fieldSet is the immutable set of values a subscription's callbacks and
// filters use. Renewal replaces the whole set when authorizer fields change.
type fieldSet struct {
	extra      []field                    // the subscription's extra fields, in extra_fields order
	authorizer map[string]json.RawMessage // authorizer_fields from the authorizer's answer
	auth       map[string]json.RawMessage // the session's auth fields at subscribe time
	extraNames map[string]bool            // extra_fields of the service at subscribe time
	authzNames map[string]bool            // authorizer_fields of the service at subscribe time
}

// value returns the subscription's own value of a filter field: the extra
// field when it is one of extra_fields, else the authorizer field when it is
// one of authorizer_fields, else the session's auth field.
func (f *fieldSet) value(name string) (json.RawMessage, bool) {
	if f.extraNames[name] {
		for _, e := range f.extra {
			if e.name == name {
				return e.value, true
			}
		}
		return nil, false
	}
	if f.authzNames[name] {
		v, ok := f.authorizer[name]
		return v, ok
	}
	v, ok := f.auth[name]
	return v, ok
}

// body returns a callback body: the subscription name merged with the
// extra fields, then the authorizer fields, then the auth fields.
func (f *fieldSet) body(subscription string) map[string]json.RawMessage {
	b := make(map[string]json.RawMessage, 1+len(f.extra)+len(f.authorizer)+len(f.auth))
	b["subscription"] = quote(subscription)
	for _, e := range f.extra {
		b[e.name] = e.value
	}
	for k, v := range f.authorizer {
		b[k] = v
	}
	for k, v := range f.auth {
		b[k] = v
	}
	return b
}

// subscription is one session's subscription to one service topic.
type subscription struct {
	name      string // "service.topic"
	service   string
	sess      *session
	extraJSON []byte            // encoded extra fields, echoed in every frame about it
	svc       *services.Service // the service's configuration at subscribe time
	fields    atomic.Pointer[fieldSet]
	channels  []*channel // one per Redis
	wildcard  bool       // a pattern subscription (wildcard_subscriptions and '*' in the topic)
	member    string     // presence member JSON; "" when the service had no presence
	// presenceSeq is this node's presence event count when the
	// subscription began: its events up to there came before it.
	presenceSeq uint64

	presenceMu sync.Mutex // serialises recording and removing the member
	tracked    bool       // guarded by presenceMu: the member is recorded

	// live turns true once the ok reply is queued; until then deliveries
	// are held back in held, in publish order.
	live atomic.Bool
	mu   sync.Mutex // guards held, order, ended and the timers
	held []*publication
	// recovered is set, before live turns true, when the subscribe
	// recovered from the history: a message it covers that reaches the
	// pub/sub connection only after the history read is not sent again.
	recovered *recovery

	order    *ordering.Filter
	throttle *throttle.Throttle[*publication]

	// newest is the offset of the newest history message handed to the
	// filters (or the name's newest at the subscribe), known when hasNewest;
	// a resume after a lost Redis Cluster master reads the history after
	// it. paused is set while such a resume waits, and pauses counts them,
	// so a resume that a later pause overtook does nothing.
	newest    history.Offset
	hasNewest bool
	paused    bool
	pauses    uint64

	ended bool
	// gone is set when end starts: a fan-out that read the channel's list
	// before the subscription left it then queues nothing for it.
	gone      atomic.Bool
	renewal   subTimer
	heartbeat subTimer
}

func newSubscription(sess *session, name, service string, svc *services.Service, fs *fieldSet) *subscription {
	sub := &subscription{
		name:      name,
		service:   service,
		sess:      sess,
		svc:       svc,
		extraJSON: encodeFields(fs.extra),
	}
	sub.fields.Store(fs)
	return sub
}

// deliver takes one publication for this subscription from a fan-out
// worker; it reports whether a frame was queued for the client now.
func (sub *subscription) deliver(p *publication, filterFields []string, cache *encodeCache) bool {
	if p.offset != nil {
		return sub.deliverFromHistory(p, filterFields, cache)
	}
	if !sub.live.Load() {
		sub.mu.Lock()
		if !sub.live.Load() {
			if !sub.ended {
				sub.held = append(sub.held, p)
			}
			sub.mu.Unlock()
			return false
		}
		sub.mu.Unlock()
	}
	if sub.recovered != nil && sub.recovered.duplicate(p) {
		return false
	}
	return sub.filter(p, filterFields, cache)
}

// deliverFromHistory is deliver for a message with a history offset: under
// sub.mu, so that the newest offset handed on and a pause (resume.go) see
// the same messages.
func (sub *subscription) deliverFromHistory(p *publication, filterFields []string, cache *encodeCache) bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if !sub.live.Load() {
		if !sub.ended {
			sub.held = append(sub.held, p)
		}
		return false
	}
	if sub.recovered.duplicate(p) {
		return false
	}
	sub.noteOffset(p)
	return sub.filterLocked(p, filterFields, cache)
}

// noteOffset records p's offset as the newest handed on; sub.mu is held.
func (sub *subscription) noteOffset(p *publication) {
	if p.offset != nil {
		sub.newest, sub.hasNewest = p.offset.off, true
	}
}

// goLive queues the messages recovered from the history (rec is nil
// without history), then everything held back that the history did not
// already give, through the filters, then lets deliveries through
// directly. The caller has queued the ok reply first.
func (sub *subscription) goLive(filterFields []string, rec *recovery) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	held := sub.held
	sub.held = nil
	n := 0
	if rec != nil {
		sub.newest, sub.hasNewest = rec.newest, true
	}
	if rec != nil && rec.recovered {
		for _, p := range rec.messages {
			if sub.filterLocked(p, filterFields, nil) {
				n++
			}
		}
		sub.recovered = rec
	}
	for _, p := range held {
		if rec.duplicate(p) {
			continue
		}
		sub.noteOffset(p)
		if sub.filterLocked(p, filterFields, nil) {
			n++
		}
	}
	sub.sess.r.metrics.Deliveries.Add(float64(n))
	sub.live.Store(true)
}

// filter applies the field filter, order and throttle, then sends.
func (sub *subscription) filter(p *publication, filterFields []string, cache *encodeCache) bool {
	if p.presence != nil {
		return sub.emitPresence(p)
	}
	if p.opts == nil {
		return sub.passesFields(p, filterFields) && sub.emit(p, cache)
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.filterLocked(p, filterFields, cache)
}

// filterLocked is filter with sub.mu held (needed for the order state).
func (sub *subscription) filterLocked(p *publication, filterFields []string, cache *encodeCache) bool {
	if sub.ended || !sub.passesFields(p, filterFields) {
		return false
	}
	if p.presence != nil {
		return sub.emitPresence(p)
	}
	if o := p.opts; o != nil {
		if o.hasOrder {
			if sub.order == nil {
				sub.order = ordering.New(0)
			}
			if !sub.order.Allow(o.orderKey, o.order) {
				sub.sess.r.drops.order.Inc()
				return false
			}
		}
		if o.throttle > 0 {
			if sub.throttle == nil {
				sub.throttle = throttle.New(sub.sess.r.clock, sub.emitThrottled)
			}
			if sub.throttle.Offer(o.throttleKey, o.throttle, p) {
				sub.sess.r.drops.throttle.Inc() // a newer message replaced a pending one
			}
			return false
		}
	}
	return sub.emit(p, cache)
}

// emitThrottled sends a message the throttle let through.
func (sub *subscription) emitThrottled(p *publication) {
	if sub.emit(p, nil) {
		sub.sess.r.metrics.Deliveries.Inc()
	}
}

func (sub *subscription) passesFields(p *publication, filterFields []string) bool {
	if len(filterFields) == 0 || p.top == nil {
		return true
	}
	fs := sub.fields.Load()
	for _, name := range filterFields {
		want, ok := p.top[name]
		if !ok {
			continue
		}
		own, has := fs.value(name)
		if !has || !control.JSONEqual(own, want) {
			sub.sess.r.drops.filter.Inc()
			return false
		}
	}
	return true
}

// emit encodes p for this subscription and queues it for the client; it
// reports whether the frame was queued.
func (sub *subscription) emit(p *publication, cache *encodeCache) bool {
	if sub.sess.stamps {
		return sub.sess.send(sub, p.encodeStamped(sub.extraJSON, time.Now()))
	}
	return sub.sess.send(sub, cache.get(p, sub.extraJSON))
}

// seedOrder applies the order (with order_key) of before_subscribe's
// options, if it gives one.
func (sub *subscription) seedOrder(options json.RawMessage) {
	if len(options) == 0 || options[0] != '{' {
		return
	}
	var opts map[string]json.RawMessage
	if json.Unmarshal(options, &opts) != nil {
		return
	}
	order, ok := ordering.ParseOrder(opts["order"])
	if !ok {
		return
	}
	key := ordering.Key(opts["order_key"])
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.order == nil {
		sub.order = ordering.New(0)
	}
	sub.order.Seed(key, order)
}

// end stops deliveries, timers and pending throttled messages, and leaves
// the Redis channels. It is idempotent and does not call any callback.
func (sub *subscription) end() {
	sub.mu.Lock()
	if sub.ended {
		sub.mu.Unlock()
		return
	}
	sub.ended = true
	sub.gone.Store(true)
	sub.held = nil
	sub.stopTimer(&sub.renewal)
	sub.stopTimer(&sub.heartbeat)
	th := sub.throttle
	sub.mu.Unlock()
	if th != nil {
		th.Stop()
	}
	for _, ch := range sub.channels {
		ch.hub.remove(ch, sub)
	}
	sub.leavePresence()
}

func (sub *subscription) isEnded() bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.ended
}
