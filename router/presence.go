package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/broker"
	"github.com/wsrouter/wsrouter/presence"
	"github.com/wsrouter/wsrouter/services"
)

// errPresenceOff answers a presence event on a service without presence.
const errPresenceOff = "Presence is not enabled."

// presenceEvent is a join or leave carried by a publication.
type presenceEvent struct {
	kind   string // presence.Join or presence.Leave
	member string // the member's JSON
	node   string // the node that published it
	seq    uint64 // its place among that node's events
}

// presenceRedis owns the presence tracker's Redis client and its refresh
// loop. The client is its own, so presence traffic never waits behind, or
// delays, the delivery probe.
type presenceRedis struct {
	client redis.UniversalClient
	wg     sync.WaitGroup
}

// startPresence builds the presence tracker on the main Redis. Its events
// are published there, on the name's channel, and every node delivers them
// to its own subscribers like any publication.
func (r *Router) startPresence(cfg *services.Config) error {
	client, err := broker.NewClient(redisURL(cfg.Redis), brokerCluster(cfg.Redis), 0)
	if err != nil {
		return fmt.Errorf("router: presence: %w", err)
	}
	r.presence.client = client
	h := r.hubs[0]
	r.tracker, err = presence.New(presence.Options{
		Client: client,
		Publish: func(ctx context.Context, channel string, payload []byte) error {
			return broker.Publish(ctx, client, channel, payload).Err()
		},
		Prefix: cfg.Redis.ChannelPrefix,
		NodeID: r.nodeID,
		TTL:    cfg.PresenceTTL.Std(),
		Logger: r.log,
		Ready:  h.up.Load,
		OnMembers: func(delta int) {
			r.metrics.PresenceMembers.Add(float64(delta))
		},
		OnSent: func(kind string) {
			r.metrics.PresenceEvents.WithLabelValues(kind).Inc()
		},
	})
	if err != nil {
		r.presence.client.Close()
		return fmt.Errorf("router: %w", err)
	}
	return nil
}

// run refreshes the tracker's entries until ctx ends.
func (p *presenceRedis) run(ctx context.Context, t *presence.Tracker) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t.Run(ctx)
	}()
}

// stop waits for the refresh loop, which ends with the router's context,
// and closes the client.
func (p *presenceRedis) stop() {
	p.wg.Wait()
	p.client.Close()
}

// decodeMessage decodes a payload published on name's channel: a presence
// event, or else a service publication. A presence event for a service
// whose presence_events is off now is skipped: nil with no error.
func (r *Router) decodeMessage(name string, payload []byte, withTop, withOffset bool, now time.Time) (*publication, string, error) {
	ev, ok := presence.ParseEvent(payload)
	if !ok || ev.Name != name {
		return decodePublication(name, payload, withTop, withOffset, now)
	}
	if svc, _ := r.cfg.Load().Service(serviceOf(name)); svc == nil || !svc.PresenceEvents {
		return nil, "", nil
	}
	p := &publication{name: name, receivedAt: now, presence: &presenceEvent{kind: ev.Kind, member: string(ev.Member), node: ev.Node, seq: ev.Seq}}
	p.plain = p.encodePresence(nil)
	return p, "", nil
}

// encodePresence renders a join or leave frame with the given extra
// fields.
func (p *publication) encodePresence(extra []byte) []byte {
	return newObject(64+len(p.name)+len(p.presence.member)+len(extra)).
		str("event", p.presence.kind).str("subscription", p.name).
		raw("member", []byte(p.presence.member)).fields(extra).bytes()
}

// emitPresence queues a join or leave for the client, unless it is about
// the subscription's own member or this node published it before the
// subscription began (it was still on its way through Redis).
func (sub *subscription) emitPresence(p *publication) bool {
	if sub.member != "" && sub.member == p.presence.member {
		return false
	}
	if ev := p.presence; ev.node == sub.sess.r.nodeID && ev.seq <= sub.presenceSeq {
		return false
	}
	frame := p.plain
	if len(sub.extraJSON) > 0 {
		frame = p.encodePresence(sub.extraJSON)
	}
	return sub.sess.send(sub, frame)
}

// presenceMember returns the member a new subscription of svc is, or ""
// when svc has no presence.
func presenceMember(svc *services.Service, fs *fieldSet) string {
	if !svc.Presence {
		return ""
	}
	m, err := presence.Member(svc.PresenceFields, fs.value)
	if err != nil {
		return "{}" // field values are JSON already; this cannot happen
	}
	return m
}

// joinPresence records sub as a member, once it is live. A subscription
// that ended meanwhile is not recorded.
func (sub *subscription) joinPresence(events bool) {
	if sub.member == "" {
		return
	}
	sub.presenceMu.Lock()
	defer sub.presenceMu.Unlock()
	if sub.isEnded() {
		return
	}
	sub.tracked = true
	err := sub.sess.r.tracker.Add(context.WithoutCancel(sub.sess.ctx), sub.name, sub.member, events)
	if err != nil {
		sub.sess.logger().Warn("presence: member not recorded yet; the next refresh retries", "subscription", sub.name, "err", err)
	}
}

// leavePresence removes sub's member record; end calls it. While Redis is
// down the record is only forgotten here and expires there.
func (sub *subscription) leavePresence() {
	if sub.member == "" {
		return
	}
	sub.presenceMu.Lock()
	defer sub.presenceMu.Unlock()
	if !sub.tracked {
		return
	}
	sub.tracked = false
	r := sub.sess.r
	ctx := context.Background()
	if !r.hubs[0].up.Load() {
		c, cancel := context.WithCancel(ctx)
		cancel()
		ctx = c
	}
	events := false
	if svc, ok := r.cfg.Load().Service(sub.service); ok {
		events = svc.PresenceEvents
	}
	err := r.tracker.Remove(ctx, sub.name, sub.member, events)
	if err != nil && ctx.Err() == nil {
		sub.sess.logger().Warn("presence: member record not removed; it expires", "subscription", sub.name, "err", err)
	}
}

// handlePresence answers {"event":"presence","subscription":S} with the
// members of S across every node.
func (s *session) handlePresence(cfg *services.Config, ev *clientEvent) bool {
	t, msg := resolve(cfg, ev)
	var sub *subscription
	switch {
	case msg != "":
	case !t.svc.Presence:
		msg = errPresenceOff
	default:
		if sub = s.subscription(t.name); sub == nil {
			msg = errNoSubscription
		}
	}
	if msg != "" {
		s.reply(reply{event: "presence", subscription: t.raw, err: msg, extra: encodeFields(t.extra)}.encode())
		return false
	}
	list, err := s.r.tracker.Members(s.ctx, t.name, presence.MaxMembers, t.svc.PresenceEvents)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			s.logger().Warn("presence: members not read", "subscription", t.name, "err", err)
		}
		s.reply(reply{event: "presence", subscription: t.raw, err: errUnavailable, extra: sub.extraJSON}.encode())
		return false
	}
	o := newObject(128+64*len(list.Members)).str("event", "presence").raw("subscription", t.raw).str("status", "ok")
	o.raw("members", membersJSON(list.Members))
	if list.Truncated {
		o.raw("truncated", []byte("true"))
	}
	s.reply(o.fields(sub.extraJSON).bytes())
	return true
}

// membersJSON renders a member list as a JSON array.
func membersJSON(ms []json.RawMessage) []byte {
	b := []byte{'['}
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, m...)
	}
	return append(b, ']')
}
