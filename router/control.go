package router

import (
	"encoding/json"

	"github.com/coder/websocket"

	"github.com/wsrouter/wsrouter/control"
)

// closeDisconnected is the close code of a session disconnected through
// the HTTP API; clients must not reconnect on it.
const closeDisconnected websocket.StatusCode = 4000

// control acts on a command from the control channel (SPEC section 10) for
// this node's sessions. It runs on a fan-out worker and does not block:
// closes happen in the background, and an unsubscribe is queued behind the
// session's earlier events.
func (r *Router) control(payload string) {
	cmd, err := control.Decode([]byte(payload))
	if err != nil {
		r.log.Warn("control message ignored", "err", err, "payload", truncateRunes(payload, 200))
		return
	}
	r.mu.Lock()
	var selected []*session
	for s := range r.sessions {
		if cmd.Selects(s.id, s.authSnapshot()) {
			selected = append(selected, s)
		}
	}
	r.mu.Unlock()
	for _, s := range selected {
		switch cmd.Op {
		case control.Disconnect:
			s.logger().Info("disconnected through the API")
			s.closeWith(disconnectByAPI)
		case control.Unsubscribe:
			name := cmd.Subscription
			s.enqueueEvent(sessionEvent{run: func() {
				if sub := s.subscription(name); sub != nil {
					s.forceUnsubscribe(sub, errUnsubscribedByAPI, true)
				}
			}})
		}
	}
}

// authSnapshot returns the session's auth fields as of its last successful
// auth, readable outside the event processor; nil before any.
func (s *session) authSnapshot() map[string]json.RawMessage {
	if p := s.authSnap.Load(); p != nil {
		return *p
	}
	return nil
}

// Stats counts this node's open connections and their subscriptions.
func (r *Router) Stats() (connections, subscriptions int) {
	all := r.sessionList()
	for _, s := range all {
		subscriptions += s.subscriptionCount()
	}
	return len(all), subscriptions
}

// NodeID is the id of this router: its probe channel's suffix.
func (r *Router) NodeID() string { return r.nodeID }
