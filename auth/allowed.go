package auth

import "encoding/json"

// Bounds of the allowed_subscriptions list an auth answer or token may
// carry, so that a session's patterns hold a bounded amount of memory and
// a subscribe checks a bounded number of them.
const (
	// MaxAllowed is the most patterns kept per session; more are ignored.
	MaxAllowed = 1000
	// MaxPatternBytes is the longest pattern kept; longer ones are ignored.
	MaxPatternBytes = 1024
)

// AllowedKey is the member of an auth answer, or the claim of a token,
// that lists the subscription patterns a session may subscribe to.
const AllowedKey = "allowed_subscriptions"

// ParseAllowed returns the patterns of an allowed_subscriptions value:
// the strings of a JSON array, at most MaxAllowed of them and each at
// most MaxPatternBytes long; dropped counts the strings left out for
// these bounds. Anything else (absent, not an array, items that are not
// strings) grants nothing.
func ParseAllowed(raw json.RawMessage) (patterns []string, dropped int) {
	if len(raw) == 0 || raw[0] != '[' {
		return nil, 0
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil, 0
	}
	for _, it := range items {
		var s string
		if len(it) == 0 || it[0] != '"' || json.Unmarshal(it, &s) != nil {
			continue
		}
		if len(s) > MaxPatternBytes || len(patterns) == MaxAllowed {
			dropped++
			continue
		}
		patterns = append(patterns, s)
	}
	return patterns, dropped
}
