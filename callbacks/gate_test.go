package callbacks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// acquired acquires a slot for service in the background and returns a
// channel that receives acquire's result.
func acquired(g *Gate, ctx context.Context, service string) chan error {
	done := make(chan error, 1)
	go func() { done <- g.acquire(ctx, service) }()
	return done
}

// waitFor fails the test when done gives no result within 5 s or one that
// is not want.
func waitFor(t *testing.T, done chan error, want error, what string) {
	t.Helper()
	select {
	case err := <-done:
		if !errors.Is(err, want) {
			t.Fatalf("%s: acquire = %v, want %v", what, err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: still waiting after 5 s", what)
	}
}

// pending fails the test when done has a result already.
func pending(t *testing.T, done chan error, what string) {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("%s: acquire returned %v, want it waiting", what, err)
	default:
	}
}

// waiters returns how many requests wait for service.
func (g *Gate) waiters(service string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if s := g.services[service]; s != nil {
		return len(s.waiting)
	}
	return 0
}

// settle waits until service has n waiting requests.
func settle(t *testing.T, g *Gate, service string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for g.waiters(service) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d waiting, want %d", service, g.waiters(service), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestGateShareLeavesRoomForOthers(t *testing.T) {
	t.Parallel()
	g := NewGate(4, 2)
	ctx := context.Background()
	for range 2 {
		waitFor(t, acquired(g, ctx, "hung"), nil, "hung within its share")
	}
	third := acquired(g, ctx, "hung")
	settle(t, g, "hung", 1)
	pending(t, third, "hung beyond its share")
	for range 2 {
		waitFor(t, acquired(g, ctx, "healthy"), nil, "healthy while hung holds its share")
	}
	if all, own := g.InFlight("hung"); all != 4 || own != 2 {
		t.Errorf("in flight = %d, hung %d; want 4, 2", all, own)
	}
	g.release("hung")
	waitFor(t, third, nil, "hung after one of its own ended")
}

func TestGateTakesTurns(t *testing.T) {
	t.Parallel()
	g := NewGate(1, 1)
	ctx := context.Background()
	waitFor(t, acquired(g, ctx, "a"), nil, "first")
	var a []chan error
	for range 3 {
		a = append(a, acquired(g, ctx, "a"))
		settle(t, g, "a", len(a))
	}
	b := acquired(g, ctx, "b")
	settle(t, g, "b", 1)

	g.release("a")
	waitFor(t, a[0], nil, "a's first waiter")
	g.release("a")
	waitFor(t, b, nil, "b, whose turn comes before a's second waiter")
	pending(t, a[1], "a's second waiter")
	g.release("b")
	waitFor(t, a[1], nil, "a's second waiter")
	g.release("a")
	waitFor(t, a[2], nil, "a's third waiter")
	g.release("a")
	if all, _ := g.InFlight(""); all != 0 {
		t.Errorf("in flight at the end = %d, want 0", all)
	}
	if n := len(g.services); n != 0 {
		t.Errorf("services remembered at the end = %d, want 0", n)
	}
}

func TestGateWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	g := NewGate(1, 1)
	waitFor(t, acquired(g, context.Background(), "a"), nil, "first")
	ctx, cancel := context.WithCancel(context.Background())
	late := acquired(g, ctx, "b")
	settle(t, g, "b", 1)
	cancel()
	waitFor(t, late, context.Canceled, "canceled waiter")
	if n := g.waiters("b"); n != 0 {
		t.Errorf("b still has %d waiting", n)
	}
	g.release("a")
	waitFor(t, acquired(g, context.Background(), "b"), nil, "after the cancel")
	if all, own := g.InFlight("b"); all != 1 || own != 1 {
		t.Errorf("in flight = %d, b %d; want 1, 1 (no slot lost or leaked)", all, own)
	}
}

func TestGateSetLimits(t *testing.T) {
	t.Parallel()
	g := NewGate(2, 2)
	ctx := context.Background()
	for range 2 {
		waitFor(t, acquired(g, ctx, "a"), nil, "within the first limits")
	}
	g.SetLimits(1, 1)
	late := acquired(g, ctx, "b")
	settle(t, g, "b", 1)
	g.release("a")
	pending(t, late, "with 1 in flight and a limit of 1")
	g.SetLimits(4, 2)
	waitFor(t, late, nil, "once the limit grew")

	tests := []struct {
		name                 string
		limit, share         int
		wantLimit, wantShare int
	}{
		{"as given", 8, 4, 8, 4},
		{"share above limit", 2, 5, 2, 2},
		{"zero", 0, 0, 1, 1},
	}
	for _, tt := range tests {
		g := NewGate(tt.limit, tt.share)
		if l, s := g.Limits(); l != tt.wantLimit || s != tt.wantShare {
			t.Errorf("%s: limits = %d, %d; want %d, %d", tt.name, l, s, tt.wantLimit, tt.wantShare)
		}
	}
}

// TestGateHoldsUnderLoad: many requests of several services, some
// canceled while waiting, never exceed either cap, and every slot comes
// back.
func TestGateHoldsUnderLoad(t *testing.T) {
	t.Parallel()
	const limit, share = 6, 3
	g := NewGate(limit, share)
	var all atomic.Int32
	var own [4]atomic.Int32
	var over atomic.Int32
	var wg sync.WaitGroup
	for i := range 400 {
		wg.Go(func() {
			svc := i % len(own)
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%7)*time.Millisecond)
			defer cancel()
			if i%3 != 0 {
				ctx = context.Background()
			}
			if g.acquire(ctx, fmt.Sprint(svc)) != nil {
				return
			}
			n, m := all.Add(1), own[svc].Add(1)
			if n > limit || m > share {
				over.Add(1)
			}
			time.Sleep(time.Duration(i%3) * time.Millisecond)
			own[svc].Add(-1)
			all.Add(-1)
			g.release(fmt.Sprint(svc))
		})
	}
	wg.Wait()
	if n := over.Load(); n > 0 {
		t.Errorf("a cap was exceeded %d times", n)
	}
	if n, _ := g.InFlight(""); n != 0 {
		t.Errorf("in flight at the end = %d, want 0", n)
	}
	if n := len(g.services); n != 0 {
		t.Errorf("services remembered at the end = %d, want 0", n)
	}
}
