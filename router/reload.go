package router

import (
	"fmt"

	"github.com/wsrouter/wsrouter/services"
)

// Reload makes cfg the configuration for new events and callbacks; an
// invalid cfg changes nothing and is returned as an error.
// Existing subscriptions keep their field values and get a renewal or
// heartbeat the reload turned on; subscriptions of a service that is gone
// end with "Service removed.", their unsubscribe callbacks going through
// the paced close queue. WebSocket settings apply
// to connections opened afterwards. Redis and listener settings are fixed
// at start; the caller keeps them unchanged.
func (r *Router) Reload(cfg *services.Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("router: invalid configuration: %w", err)
	}
	old := r.cfg.Load()
	if err := r.apply(cfg); err != nil {
		return err
	}
	removed := map[string]bool{}
	for name := range old.Services {
		if _, ok := cfg.Service(name); !ok {
			removed[name] = true
		}
	}
	for _, s := range r.sessionList() {
		s.subsMu.Lock()
		var gone []*subscription
		for _, sub := range s.subs {
			if removed[sub.service] {
				gone = append(gone, sub)
			} else {
				sub.startTimers() // renewal or heartbeat turned on by this reload
			}
		}
		s.subsMu.Unlock()
		for _, sub := range gone {
			s.enqueueEvent(sessionEvent{run: func() { s.forceUnsubscribe(sub, errServiceRemoved, true) }})
		}
	}
	return nil
}
