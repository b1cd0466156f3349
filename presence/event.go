package presence

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// Event kinds, as the client sees them in "event".
const (
	Join  = "join"
	Leave = "leave"
)

// Event is a join or leave published on a name's channel.
type Event struct {
	// Kind is Join or Leave.
	Kind string
	// Name is the subscription name.
	Name string
	// Member is the member's JSON object.
	Member json.RawMessage
	// Node is the id of the node that published it, and Seq its place
	// among that node's events (see Tracker.Seq); zero when absent.
	Node string
	Seq  uint64
}

// encodeEvent renders the payload published for an event: the frame a
// client gets, followed by the publishing node and its sequence number.
func encodeEvent(kind, name, member, node string, seq uint64) []byte {
	quoted, _ := json.Marshal(name) // a string always marshals
	b := make([]byte, 0, 48+len(quoted)+len(member))
	b = append(b, `{"event":"`...)
	b = append(b, kind...)
	b = append(b, `","subscription":`...)
	b = append(b, quoted...)
	b = append(b, `,"member":`...)
	b = append(b, member...)
	if node != "" {
		quotedNode, _ := json.Marshal(node)
		b = append(b, `,"node":`...)
		b = append(b, quotedNode...)
		b = append(b, `,"seq":`...)
		b = strconv.AppendUint(b, seq, 10)
	}
	return append(b, '}')
}

// ParseEvent recognises a presence event among the payloads published on
// a name's channel: an object that starts with "event", join or leave,
// and has a "member" object and no "data". A service publication always
// has "data", so the two never mix.
func ParseEvent(payload []byte) (Event, bool) {
	if !bytes.HasPrefix(payload, []byte(`{"event":"`)) {
		return Event{}, false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(payload, &top) != nil {
		return Event{}, false
	}
	if _, data := top["data"]; data {
		return Event{}, false
	}
	var kind, name string
	member := top["member"]
	if json.Unmarshal(top["event"], &kind) != nil || (kind != Join && kind != Leave) ||
		json.Unmarshal(top["subscription"], &name) != nil || len(member) == 0 || member[0] != '{' {
		return Event{}, false
	}
	e := Event{Kind: kind, Name: name, Member: member}
	_ = json.Unmarshal(top["node"], &e.Node)
	_ = json.Unmarshal(top["seq"], &e.Seq)
	return e, true
}
