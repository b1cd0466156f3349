package presence

import (
	"context"
	"encoding/json"
	"fmt"
)

// MaxMembers caps the members a presence answer lists; a longer list is
// cut, in byte order of the members' JSON, and reported as truncated.
const MaxMembers = 1000

// List is a name's member list.
type List struct {
	// Members are the members' JSON objects, sorted by their bytes.
	Members []json.RawMessage
	// Total is the number of members, including those cut.
	Total int
	// Truncated is true when Members holds fewer than Total.
	Truncated bool
}

// Members lists the members of name across every node, at most limit of
// them (MaxMembers when limit is not positive or larger). Entries of dead
// nodes are swept first; their leave events are published with events.
func (t *Tracker) Members(ctx context.Context, name string, limit int, events bool) (List, error) {
	if limit <= 0 || limit > MaxMembers {
		limit = MaxMembers
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	res, err := membersScript.Run(ctx, t.client, keys(t.prefix, name), t.now().UnixMilli(), limit).Slice()
	if err != nil {
		return List{}, fmt.Errorf("presence: members of %q: %w", name, err)
	}
	if len(res) < 2 {
		return List{}, fmt.Errorf("presence: members of %q: short answer %v", name, res)
	}
	nLeft, total := toInt(res[0]), toInt(res[1])
	rest := res[2:]
	if nLeft > len(rest) {
		return List{}, fmt.Errorf("presence: members of %q: answer lists %d left of %d", name, nLeft, len(rest))
	}
	if events {
		for _, m := range rest[:nLeft] {
			t.send(ctx, Leave, name, toString(m))
		}
	}
	l := List{Total: total, Members: make([]json.RawMessage, 0, len(rest)-nLeft)}
	for _, m := range rest[nLeft:] {
		l.Members = append(l.Members, json.RawMessage(toString(m)))
	}
	l.Truncated = len(l.Members) < total
	return l, nil
}

// toInt reads an integer reply element.
func toInt(v any) int {
	n, _ := v.(int64)
	return int(n)
}

// toString reads a bulk string reply element.
func toString(v any) string {
	s, _ := v.(string)
	return s
}
