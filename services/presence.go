package services

import (
	"fmt"
	"time"
)

// Bounds of presence_ttl: a dead node's members must leave within 60 s,
// which is at most TTL*4/3.
const (
	minPresenceTTL = Duration(time.Second)
	maxPresenceTTL = Duration(45 * time.Second)
)

// presenceTTL checks presence_ttl.
func (v *validator) presenceTTL(d Duration) {
	if d < minPresenceTTL || d > maxPresenceTTL {
		v.add("presence_ttl", fmt.Sprintf("must be between %s and %s, got %s", minPresenceTTL, maxPresenceTTL, d))
	}
}

// presence checks a service's presence keys. p is the service's key path.
func (v *validator) presence(p string, s *Service) {
	v.fieldList(p+".presence_fields", s.PresenceFields)
	v.reservedFields(p+".presence_fields", s.PresenceFields)
	switch {
	case s.Presence && len(s.PresenceFields) == 0:
		v.add(p+".presence_fields", fmt.Sprintf("required when %s.presence is true (presence_fields is empty)", p), p+".presence")
	case !s.Presence && len(s.PresenceFields) > 0:
		v.add(p+".presence_fields", fmt.Sprintf("needs %s.presence: true (presence_fields is set, presence is false)", p), p+".presence")
	}
	if s.PresenceEvents && !s.Presence {
		v.add(p+".presence_events", fmt.Sprintf("needs %s.presence: true (presence_events is true, presence is false)", p), p+".presence")
	}
}
