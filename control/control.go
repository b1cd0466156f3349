// Package control is the wire format of the commands that reach every
// router node through Redis: the HTTP API publishes them on the control
// channel, and each node's router subscribes to it and acts on its own
// sessions (SPEC section 10). Neither side imports the other; this package
// is what they share.
package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// channelSuffix follows the channel prefix to form the control channel.
const channelSuffix = "_wsrouter.control"

// Channel returns the Redis channel of the control commands for a channel
// prefix.
func Channel(prefix string) string { return prefix + channelSuffix }

// Op names what a command does.
type Op string

const (
	// Disconnect closes each matching session with close code 4000.
	Disconnect Op = "disconnect"
	// Unsubscribe ends a matching session's subscription as a removed
	// service does.
	Unsubscribe Op = "unsubscribe"
)

// Command is one command for the sessions of every node. Exactly one of
// Session and Match selects the sessions.
type Command struct {
	// Op is what to do.
	Op Op `json:"op"`
	// Session selects one session by id.
	Session string `json:"session,omitempty"`
	// Match selects every session whose auth fields equal each of these
	// (JSON equality).
	Match map[string]json.RawMessage `json:"match,omitempty"`
	// Subscription names the subscription to end, for Unsubscribe.
	Subscription string `json:"subscription,omitempty"`
}

// ErrInvalid marks a control message that cannot be acted on.
var ErrInvalid = errors.New("control: invalid command")

// Encode renders c for PUBLISH.
func (c Command) Encode() ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("control: encode: %w", err)
	}
	return b, nil
}

// Decode parses a control message.
func Decode(payload []byte) (Command, error) {
	var c Command
	if err := json.Unmarshal(payload, &c); err != nil {
		return Command{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return c, c.check()
}

// check reports a command that selects nothing or everything, or does
// nothing.
func (c Command) check() error {
	switch {
	case c.Op != Disconnect && c.Op != Unsubscribe:
		return fmt.Errorf("%w: unknown op %q", ErrInvalid, c.Op)
	case (c.Session == "") == (len(c.Match) == 0):
		return fmt.Errorf("%w: needs exactly one of session and match", ErrInvalid)
	case c.Op == Unsubscribe && c.Subscription == "":
		return fmt.Errorf("%w: unsubscribe needs a subscription", ErrInvalid)
	}
	return nil
}

// Selects reports whether the command applies to the session with this id
// and these auth fields.
func (c Command) Selects(sessionID string, auth map[string]json.RawMessage) bool {
	if c.Session != "" {
		return c.Session == sessionID
	}
	if len(c.Match) == 0 {
		return false
	}
	for name, want := range c.Match {
		have, ok := auth[name]
		if !ok || !JSONEqual(have, want) {
			return false
		}
	}
	return true
}

// JSONEqual reports whether two JSON values mean the same: "1" is not 1,
// 1 is 1.0, and members of objects compare regardless of order. It is how
// a command's match selects auth fields, and how the router compares the
// fields of a publication's filter and of an authorizer's answer.
func JSONEqual(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}
