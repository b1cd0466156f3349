package router

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"weak"

	"github.com/wsrouter/wsrouter/callbacks"
	"github.com/wsrouter/wsrouter/services"
)

// target is what a subscription event names: the checks every subscription
// event shares (format, then service) already passed.
type target struct {
	raw     json.RawMessage // "subscription" as sent, echoed in replies
	name    string
	service string
	svc     *services.Service
	extra   []field // the request's extra fields
}

// resolve checks the subscription name's format and service. On failure it
// returns the error text for the reply. A name, or an extra field value,
// longer than websocket.max_subscription_bytes is a format error, and what
// is longer than that is never echoed.
func resolve(cfg *services.Config, ev *clientEvent) (target, string) {
	limit := cfg.WebSocket.MaxSubscriptionBytes
	t := target{raw: ev.field("subscription")}
	if !truthy(t.raw) {
		t.raw = nil // as SocketShark: an empty or false name is not echoed
	}
	name, ok := ev.str("subscription")
	if ok && len(name) > limit || !ok && len(t.raw) > limit {
		t.raw = nil // a valid name is echoed as sent, escapes included
		return t, errInvalidFormat
	}
	service, topic, found := strings.Cut(name, ".")
	if !ok || !found || service == "" || topic == "" {
		return t, errInvalidFormat
	}
	svc, ok := cfg.Service(service)
	if !ok {
		return t, errInvalidService
	}
	t.name, t.service, t.svc = name, service, svc
	msg := ""
	for _, f := range svc.ExtraFields {
		if v, ok := ev.fields[f]; ok {
			if len(v) > limit {
				msg = errInvalidFormat
				continue
			}
			t.extra = append(t.extra, field{name: f, value: v})
		}
	}
	return t, msg
}

// errorText is an error answer's text, or def when it has none.
func errorText(ans *callbacks.Answer, def string) string {
	if ans.Error != "" {
		return ans.Error
	}
	return def
}

// call makes one callback of service; its requests count against the
// service's share of http.max_concurrency.
func (s *session) call(ctx context.Context, service, name, url string, body any) *callbacks.Answer {
	return s.r.cb.Load().CallService(ctx, service, name, url, body)
}

// handleSubscribe runs the checks and steps of SPEC section 3 in order.
func (s *session) handleSubscribe(cfg *services.Config, ev *clientEvent) bool {
	t, msg := resolve(cfg, ev)
	fail := func(msg string, data json.RawMessage) bool {
		s.reply(reply{event: "subscribe", subscription: t.raw, err: msg, extra: encodeFields(t.extra), data: data}.encode())
		return false
	}
	switch {
	case msg != "":
		return fail(msg, nil)
	case t.svc.RequiresAuthentication() && !s.authenticated:
		return fail(errAuthRequired, nil)
	}
	if existing := s.subscription(t.name); existing != nil {
		// The reply is about the subscription that exists: its extra
		// fields, not the refused request's.
		s.reply(reply{event: "subscribe", subscription: t.raw, err: errAlreadySubscribed, extra: existing.extraJSON}.encode())
		return false
	}
	switch {
	case t.svc.RequireAllowedSubscription && !s.allowedSubscription(t.name):
		return fail(errUnauthorized, nil)
	case s.subscriptionCount() >= s.maxSubs:
		return fail(errTooManySubs, nil)
	case t.svc.IsWildcard(t.name) && s.wildcardCount() >= maxWildcardSubs:
		return fail(errTooManySubs, nil)
	}
	svc := t.svc
	fs := &fieldSet{extra: t.extra, auth: s.authFields, extraNames: set(svc.ExtraFields), authzNames: set(svc.AuthorizerFields)}

	// 1. authorizer
	if svc.Authorizer != "" {
		ans := s.call(s.ctx, t.service, "authorizer", svc.Authorizer, fs.body(t.name))
		if !ans.OK() {
			return fail(errorText(ans, errUnauthorized), ans.Data)
		}
		fs.authorizer = pick(ans.Fields, svc.AuthorizerFields)
	}

	// 2. Redis subscribe; deliveries are held back from here on.
	sub := newSubscription(s, t.name, t.service, svc, fs)
	sub.wildcard = svc.IsWildcard(t.name)
	if !sub.wildcard { // presence and history are per name
		sub.member = presenceMember(svc, fs)
	}
	sub.presenceSeq = s.r.tracker.Seq()
	if err := s.joinChannels(cfg, sub); err != nil {
		sub.end()
		if s.ctx.Err() == nil {
			s.logger().Warn("subscribe: redis channel not ready", "subscription", t.name, "err", err)
		}
		return fail(errUnavailable, nil)
	}

	// 3. before_subscribe
	var data json.RawMessage
	if svc.BeforeSubscribe != "" {
		ans := s.call(s.ctx, t.service, "before_subscribe", svc.BeforeSubscribe, fs.body(t.name))
		if !ans.OK() {
			sub.end()
			return fail(errorText(ans, errUnhandled), ans.Data)
		}
		data = ans.Data
		sub.seedOrder(ans.Fields["options"])
	}

	// History: the newest offset and, with since, what the client missed.
	var rec *recovery
	if h := svc.History; h != nil && !sub.wildcard {
		var err error
		if rec, err = s.readHistory(cfg, sub, h, ev.field("since")); err != nil {
			sub.end()
			if s.ctx.Err() == nil {
				s.logger().Warn("subscribe: history not readable", "subscription", t.name, "err", errHistory(err))
			}
			return fail(errUnavailable, nil)
		}
	}

	// 4. reply, then what was held back.
	if !s.addSubscription(sub) {
		sub.end() // the connection closed meanwhile
		return false
	}
	// The member is recorded before the reply, so whoever learns of this
	// subscription finds it in the member list.
	sub.joinPresence(svc.PresenceEvents)
	// Deliveries are still held back, so none can overtake the reply.
	offset, recovered := rec.replyFields()
	s.reply(reply{event: "subscribe", subscription: t.raw, extra: sub.extraJSON, data: data, offset: offset, recovered: recovered}.encode())
	sub.goLive(svc.FilterFields, rec)

	// A reload may have removed the service while this subscribe waited on
	// a callback, after it ended the service's other subscriptions.
	if _, ok := s.r.cfg.Load().Service(t.service); !ok {
		s.forceUnsubscribe(sub, errServiceRemoved, true)
		return true
	}

	// 5. timers, then on_subscribe.
	sub.startTimers()
	if svc.OnSubscribe != "" {
		s.call(context.WithoutCancel(s.ctx), t.service, "on_subscribe", svc.OnSubscribe, fs.body(t.name))
	}
	return true
}

// joinChannels adds sub to its channel on every Redis and waits until each
// SUBSCRIBE is confirmed.
func (s *session) joinChannels(cfg *services.Config, sub *subscription) error {
	for _, h := range s.r.hubs {
		ch, err := h.join(sub.name, sub, sub.wildcard)
		if err != nil {
			return err
		}
		sub.channels = append(sub.channels, ch)
	}
	timeout := max(2*cfg.Redis.PingTimeout.Std(), 5*time.Second)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for _, ch := range sub.channels {
		select {
		case <-ch.ready:
			if ch.failed {
				return errRedisDown
			}
		case <-timer.C:
			return errors.New("router: redis did not confirm the subscribe in time")
		case <-s.ctx.Done():
			return s.ctx.Err()
		}
	}
	return nil
}

// held resolves the subscription an unsubscribe or message event names and
// returns it, or answers the event's error and returns nil.
func (s *session) held(cfg *services.Config, ev *clientEvent) (target, *subscription) {
	t, msg := resolve(cfg, ev)
	var sub *subscription
	if msg == "" {
		if sub = s.subscription(t.name); sub == nil {
			msg = errNoSubscription
		}
	}
	if msg != "" {
		s.reply(reply{event: ev.name, subscription: t.raw, err: msg, extra: encodeFields(t.extra)}.encode())
	}
	return t, sub
}

// handleUnsubscribe ends a subscription unless before_unsubscribe refuses.
func (s *session) handleUnsubscribe(cfg *services.Config, ev *clientEvent) bool {
	t, sub := s.held(cfg, ev)
	if sub == nil {
		return false
	}
	body := sub.fields.Load().body(sub.name)
	var data json.RawMessage
	if t.svc.BeforeUnsubscribe != "" {
		ans := s.call(s.ctx, t.service, "before_unsubscribe", t.svc.BeforeUnsubscribe, body)
		if !ans.OK() {
			s.reply(reply{event: "unsubscribe", subscription: t.raw, err: errorText(ans, errUnhandled), extra: sub.extraJSON, data: ans.Data}.encode())
			return false
		}
		data = ans.Data
	}
	s.removeSubscription(sub)
	sub.end()
	s.reply(reply{event: "unsubscribe", subscription: t.raw, extra: sub.extraJSON, data: data}.encode())
	if t.svc.OnUnsubscribe != "" {
		s.call(context.WithoutCancel(s.ctx), t.service, "on_unsubscribe", t.svc.OnUnsubscribe, body)
	}
	return true
}

// handleMessage passes a client message to the service's on_message.
func (s *session) handleMessage(cfg *services.Config, ev *clientEvent) bool {
	t, sub := s.held(cfg, ev)
	if sub == nil {
		return false
	}
	if t.svc.OnMessage == "" {
		return true
	}
	body := sub.fields.Load().body(sub.name)
	body["data"] = json.RawMessage("null")
	if d := ev.field("data"); d != nil {
		body["data"] = d
	}
	ans := s.call(s.ctx, t.service, "on_message", t.svc.OnMessage, body)
	if !ans.OK() {
		s.reply(reply{event: "message", subscription: t.raw, err: errorText(ans, errUnhandled), extra: sub.extraJSON, data: ans.Data}.encode())
		return false
	}
	if ans.Data != nil {
		s.reply(reply{event: "message", subscription: t.raw, extra: sub.extraJSON, data: ans.Data}.encode())
	}
	return true
}

// forceUnsubscribe ends sub on the router's initiative (renewal refused,
// service removed): the client gets {"event":"unsubscribe","subscription":S,
// "error":E,...} with before_unsubscribe's data when given. With paced, the
// unsubscribe callbacks go through the close queue and the event is sent
// when before_unsubscribe has answered there; otherwise they are made here.
func (s *session) forceUnsubscribe(sub *subscription, msg string, paced bool) {
	if !s.removeSubscription(sub) {
		return
	}
	sub.end()
	s.logger().Info("subscription ended by the router", "subscription", sub.name, "reason", msg)
	if paced {
		// The queue keeps only a weak reference: a session that closes
		// meanwhile is not kept alive for an event it can no longer get.
		ws, name, extra := weak.Make(s), sub.name, sub.extraJSON
		s.r.closeQueue.pushAnswered(sub, func(data json.RawMessage) {
			if s := ws.Value(); s != nil {
				s.enqueueEvent(sessionEvent{run: func() { s.reply(forcedUnsubscribe(name, extra, msg, data)) }})
			}
		})
		return
	}
	svc := sub.currentService()
	body := sub.fields.Load().body(sub.name)
	var data json.RawMessage
	if svc.BeforeUnsubscribe != "" {
		data = s.call(context.WithoutCancel(s.ctx), sub.service, "before_unsubscribe", svc.BeforeUnsubscribe, body).Data
	}
	s.reply(forcedUnsubscribe(sub.name, sub.extraJSON, msg, data))
	if svc.OnUnsubscribe != "" {
		s.call(context.WithoutCancel(s.ctx), sub.service, "on_unsubscribe", svc.OnUnsubscribe, body)
	}
}

// forcedUnsubscribe encodes the event that tells a client the router ended
// its subscription name.
func forcedUnsubscribe(name string, extra []byte, msg string, data json.RawMessage) []byte {
	o := newObject(128).str("event", "unsubscribe").raw("subscription", quote(name)).str("error", msg).fields(extra)
	if hasValue(data) {
		o.raw("data", data)
	}
	return o.bytes()
}

// currentService is the subscription's service as configured now, or as it
// was at subscribe time when it has been removed since.
func (sub *subscription) currentService() *services.Service {
	if svc, ok := sub.sess.r.cfg.Load().Service(sub.service); ok {
		return svc
	}
	return sub.svc
}

// truthy reports whether a JSON value is set in Python's sense: not null,
// false, 0, "", [] or {}.
func truthy(raw json.RawMessage) bool {
	switch string(raw) {
	case "", "null", "false", `""`:
		return false
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	switch v := v.(type) {
	case float64:
		return v != 0
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

func set(names []string) map[string]bool {
	if len(names) == 0 {
		return nil
	}
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// pick returns the members of fields named in names.
func pick(fields map[string]json.RawMessage, names []string) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(names))
	for _, n := range names {
		if v, ok := fields[n]; ok {
			out[n] = v
		}
	}
	return out
}
