package router

import (
	"encoding/json"
	"strconv"
)

// A Redis Cluster master was lost or a slot moved: the broker subscribes
// the affected channels again on their new master (SPEC section 11). A
// live subscription on a service with history pauses: its deliveries are
// held back from then on, and once the channel is confirmed again it
// reads the history after the newest offset it handed on, delivers that
// gap, then what was held back that the history did not already give.
// Every other subscription on the channel closes its session with 1011.

// pause holds back sub's deliveries until resume; it reports false when
// the subscription cannot be resumed from the history (it is still being
// subscribed, or has seen no offset), and its session must close. It
// returns the pause's number, for resume.
func (sub *subscription) pause() (uint64, bool) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.ended {
		return 0, true
	}
	if !sub.paused && (!sub.live.Load() || !sub.hasNewest) {
		return 0, false
	}
	sub.paused = true
	sub.live.Store(false)
	sub.pauses++
	return sub.pauses, true
}

// resume reads the history after the newest offset sub handed on and
// delivers it, then what was held back, and lets deliveries through again,
// unless a later pause (n is this one's number) or the end of the
// subscription overtook it. When the history no longer has every message
// of the gap, the session is closed with 1011 instead.
func (sub *subscription) resume(n uint64) {
	s := sub.sess
	sub.mu.Lock()
	since, current := sub.newest, sub.paused && sub.pauses == n && !sub.ended
	sub.mu.Unlock()
	if !current {
		return
	}
	cfg := s.r.cfg.Load()
	svc, ok := cfg.Service(sub.service)
	if !ok || svc.History == nil {
		s.closeWith(disconnectRedisLost)
		return
	}
	rec, err := s.readHistory(cfg, sub, svc.History, json.RawMessage(strconv.Quote(since.String())))
	if err != nil || !rec.recovered {
		if err != nil {
			s.logger().Warn("resume after a Redis Cluster failover failed; closing", "subscription", sub.name, "err", errHistory(err))
		} else {
			s.logger().Info("history no longer covers the failover gap; closing", "subscription", sub.name)
		}
		s.closeWith(disconnectRedisLost)
		return
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if !sub.paused || sub.pauses != n || sub.ended {
		return
	}
	held := sub.held
	sub.held = nil
	count := 0
	for _, p := range rec.messages {
		sub.noteOffset(p)
		if sub.filterLocked(p, svc.FilterFields, nil) {
			count++
		}
	}
	sub.recovered = rec
	for _, p := range held {
		if rec.duplicate(p) {
			continue
		}
		sub.noteOffset(p)
		if sub.filterLocked(p, svc.FilterFields, nil) {
			count++
		}
	}
	s.r.metrics.Deliveries.Add(float64(count))
	sub.paused = false
	sub.live.Store(true)
	s.logger().Debug("resumed from the history after a Redis Cluster failover", "subscription", sub.name,
		"from_history", len(rec.messages), "held", len(held))
}

// interrupt pauses every subscription of ch that can be resumed from the
// history and closes the sessions of the others with 1011; it returns the
// pauses to resume once ch is confirmed again.
func (ch *channel) interrupt() (pauses []pausedSub, closed int) {
	ch.each(func(sub *subscription) {
		if sub.svc != nil && sub.svc.History != nil {
			if n, ok := sub.pause(); ok {
				pauses = append(pauses, pausedSub{sub, n})
				return
			}
		}
		sub.sess.closeWith(disconnectRedisLost)
		closed++
	})
	return pauses, closed
}

// pausedSub is one pause of a subscription.
type pausedSub struct {
	sub *subscription
	n   uint64
}

// resumeAll resumes each pause in the background of its session.
func resumeAll(pauses []pausedSub) {
	for _, p := range pauses {
		s := p.sub.sess
		if !s.enter() {
			continue // the session is closing
		}
		go func() {
			defer s.leave()
			p.sub.resume(p.n)
		}()
	}
}
