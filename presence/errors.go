package presence

import "errors"

// ErrNotHeld is returned by Remove for a member that Add did not record
// on this tracker.
var ErrNotHeld = errors.New("presence: member not held by this node")
