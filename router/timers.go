package router

import (
	"context"
	"maps"
	"math/rand/v2"
	"time"

	"github.com/wsrouter/wsrouter/callbacks"
	"github.com/wsrouter/wsrouter/control"
	"github.com/wsrouter/wsrouter/internal/clock"
	"github.com/wsrouter/wsrouter/services"
)

// subTimer is one of a subscription's timers on the router's clock:
// nothing waits for it in a goroutine. armed is true while it waits to
// fire; both fields are guarded by the subscription's mu.
type subTimer struct {
	t     clock.Timer
	armed bool
}

// startTimers arms renewal and heartbeat as the service is configured now,
// those not already waiting: for a new subscription, and after a reload
// that turned either on for its service.
func (sub *subscription) startTimers() {
	svc := sub.currentService()
	if d, ok := renewalDelay(svc); ok {
		sub.arm(&sub.renewal, d, sub.renew, true)
	}
	if svc.HeartbeatPeriod > 0 && svc.OnHeartbeat != "" {
		sub.arm(&sub.heartbeat, randomPart(svc.HeartbeatPeriod.Std()), sub.beat, true)
	}
}

// renewalDelay is the next renewal's wait: the period minus a random part
// of the jitter.
func renewalDelay(svc *services.Service) (time.Duration, bool) {
	period := svc.AuthorizationRenewalPeriod.Std()
	if period <= 0 || svc.Authorizer == "" {
		return 0, false
	}
	return period - randomPart(svc.AuthorizationRenewalJitter.Std()), true
}

func randomPart(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// arm sets st to fire f after d, unless the subscription has ended (or,
// with onlyIdle, st is already waiting).
func (sub *subscription) arm(st *subTimer, d time.Duration, f func(), onlyIdle bool) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.ended || (onlyIdle && st.armed) {
		return
	}
	st.armed = true
	if st.t != nil {
		st.t.Stop()
	}
	st.t = sub.sess.r.clock.AfterFunc(d, f)
}

// fired marks st as no longer waiting; its callback calls it first.
func (sub *subscription) fired(st *subTimer) {
	sub.mu.Lock()
	st.armed = false
	sub.mu.Unlock()
}

// stopTimer stops st for good; sub.mu is held.
func (sub *subscription) stopTimer(st *subTimer) {
	if st.t != nil {
		st.t.Stop()
		st.t = nil
		st.armed = false
	}
}

// renew asks the authorizer again; the answer is applied on the session's
// processor, in order with client events.
func (sub *subscription) renew() {
	sub.fired(&sub.renewal)
	s := sub.sess
	if !s.enter() {
		return
	}
	defer s.leave()
	svc := sub.currentService()
	if sub.isEnded() || svc.Authorizer == "" {
		return
	}
	ans := s.call(s.ctx, sub.service, "authorizer", svc.Authorizer, sub.fields.Load().body(sub.name))
	s.enqueueEvent(sessionEvent{run: func() { s.applyRenewal(sub, ans) }})
}

// applyRenewal acts on a renewal answer: an error ends the subscription, an
// unreachable authorizer keeps it, changed authorizer fields are stored and
// reported to on_authorization_change.
func (s *session) applyRenewal(sub *subscription, ans *callbacks.Answer) {
	if s.subscription(sub.name) != sub || sub.isEnded() {
		return
	}
	svc := sub.currentService()
	switch {
	case ans.Unavailable():
		s.logger().Warn("renewal: authorizer unreachable; subscription kept", "subscription", sub.name)
	case !ans.OK():
		s.forceUnsubscribe(sub, errorText(ans, errUnauthorized), false)
		return
	default:
		old := sub.fields.Load()
		fresh := pick(ans.Fields, sub.svc.AuthorizerFields)
		if !maps.EqualFunc(old.authorizer, fresh, control.JSONEqual) {
			next := *old
			next.authorizer = fresh
			sub.fields.Store(&next)
			if svc.OnAuthorizationChange != "" {
				s.call(context.WithoutCancel(s.ctx), sub.service, "on_authorization_change", svc.OnAuthorizationChange, next.body(sub.name))
			}
		}
	}
	if d, ok := renewalDelay(svc); ok {
		sub.arm(&sub.renewal, d, sub.renew, false)
	}
}

// beat calls on_heartbeat and re-arms itself with the period then
// configured; failures are logged and counted only.
func (sub *subscription) beat() {
	sub.fired(&sub.heartbeat)
	s := sub.sess
	if !s.enter() {
		return
	}
	defer s.leave()
	svc := sub.currentService()
	if sub.isEnded() || svc.OnHeartbeat == "" || svc.HeartbeatPeriod <= 0 {
		return
	}
	ans := s.call(s.ctx, sub.service, "on_heartbeat", svc.OnHeartbeat, sub.fields.Load().body(sub.name))
	if !ans.OK() && s.ctx.Err() == nil {
		s.r.metrics.HeartbeatFailures.Inc()
		s.logger().Warn("heartbeat failed", "subscription", sub.name, "error", ans.Error)
	}
	sub.arm(&sub.heartbeat, svc.HeartbeatPeriod.Std(), sub.beat, false)
}
