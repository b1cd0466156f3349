package presence

import (
	"context"
	"fmt"
	"time"
)

// Run refreshes this node's entries every TTL/3 until ctx ends, skipping
// the passes while Options.Ready reports false. Each pass
// also sweeps the dead entries of the names this node holds, so a dead
// node's members leave within TTL plus one period of its last refresh,
// published by whichever live node sweeps them first.
func (t *Tracker) Run(ctx context.Context) {
	tick := time.NewTicker(t.ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if t.ready() {
				t.Refresh(ctx)
			}
		}
	}
}

// Refresh runs one refresh pass over every name this node holds: one
// script per name pushes this node's entries forward, sweeps expired ones
// (publishing their leaves), and reports entries that were missing, which
// are added again (publishing a join if the member had left meanwhile).
// Failures are logged; the next pass tries again.
func (t *Tracker) Refresh(ctx context.Context) {
	for _, name := range t.heldNames() {
		if ctx.Err() != nil {
			return
		}
		if err := t.refreshName(ctx, name); err != nil {
			t.log.Warn("presence: refresh", "subscription", name, "error", err)
		}
	}
}

// heldNames returns the names with a member on this node.
func (t *Tracker) heldNames() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	names := make([]string, 0, len(t.names))
	for name := range t.names {
		names = append(names, name)
	}
	return names
}

// refreshName refreshes one name.
func (t *Tracker) refreshName(ctx context.Context, name string) error {
	t.mu.Lock()
	r := t.names[name]
	if r == nil {
		t.mu.Unlock()
		return nil
	}
	events := r.events
	expiry, keyTTL := t.expiry()
	args := make([]any, 0, 3+len(r.members))
	args = append(args, t.now().UnixMilli(), expiry, keyTTL)
	for member := range r.members {
		args = append(args, holder(t.node, member))
	}
	t.mu.Unlock()

	sctx, cancel := context.WithTimeout(ctx, opTimeout)
	res, err := refreshScript.Run(sctx, t.client, keys(t.prefix, name), args...).Slice()
	cancel()
	if err != nil {
		return fmt.Errorf("presence: refresh %q: %w", name, err)
	}
	if len(res) < 1 || toInt(res[0]) > len(res)-1 {
		return fmt.Errorf("presence: refresh %q: bad answer %v", name, res)
	}
	nLeft := toInt(res[0])
	if events {
		for _, m := range res[1 : 1+nLeft] {
			t.send(ctx, Leave, name, toString(m))
		}
	}
	for _, h := range res[1+nLeft:] {
		if err := t.restore(ctx, name, holderMember(toString(h))); err != nil {
			return err
		}
	}
	return nil
}

// restore adds again an entry the refresh found missing, if this node
// still has a subscription of the member. Adding an entry that is there
// changes nothing, so a Remove and Add racing with the refresh are safe.
func (t *Tracker) restore(ctx context.Context, name, member string) error {
	t.mu.Lock()
	r := t.names[name]
	var e *entry
	if r != nil {
		e = r.members[member]
	}
	var events bool
	if e != nil {
		e.refs++ // keep the entry in the table while we use it
		events = r.events
	}
	t.mu.Unlock()
	if e == nil {
		return nil
	}
	defer func() {
		t.mu.Lock()
		e.refs--
		if e.refs == 0 {
			delete(r.members, member)
			if len(r.members) == 0 {
				delete(t.names, name)
			}
		}
		t.mu.Unlock()
	}()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.sessions == 0 {
		return nil
	}
	if e.held {
		e.held = false
		t.stored.Add(-1)
		t.onHeld(-1)
	}
	return t.hold(ctx, name, member, e, events)
}
