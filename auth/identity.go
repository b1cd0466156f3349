package auth

import (
	"encoding/json"
	"time"
)

// Identity is what a successful authentication gives a session.
type Identity struct {
	// Fields are the configured auth fields found in the answer or the
	// token's claims, as JSON; a field that is absent is left out.
	Fields map[string]json.RawMessage
	// Allowed are the subscription patterns granted (see ParseAllowed).
	Allowed []string
	// Dropped is how many granted patterns were left out of Allowed for
	// its bounds (MaxAllowed, MaxPatternBytes).
	Dropped int
	// Expires is when the identity ends (a token's exp); zero means never.
	Expires time.Time
}

// identityFrom picks names out of members and reads the allowed patterns.
func identityFrom(members map[string]json.RawMessage, names []string) Identity {
	id := Identity{Fields: make(map[string]json.RawMessage, len(names))}
	for _, n := range names {
		if v, ok := members[n]; ok {
			id.Fields[n] = v
		}
	}
	id.Allowed, id.Dropped = ParseAllowed(members[AllowedKey])
	return id
}

// FromAnswer is the identity an ok answer of a callback grants: the
// members named in fields, and its allowed_subscriptions.
func FromAnswer(members map[string]json.RawMessage, fields []string) Identity {
	return identityFrom(members, fields)
}
