package main

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for ticket expiry.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestTickets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		wait     time.Duration
		redeem   int // how many times the ticket is redeemed
		forged   bool
		wantUser string
		wantOK   []bool
	}{
		{name: "fresh ticket redeems once", redeem: 1, wantUser: "alice", wantOK: []bool{true}},
		{name: "second redeem fails", redeem: 2, wantUser: "alice", wantOK: []bool{true, false}},
		{name: "just before expiry", wait: ticketTTL - time.Millisecond, redeem: 1, wantUser: "alice", wantOK: []bool{true}},
		{name: "at expiry", wait: ticketTTL, redeem: 1, wantOK: []bool{false}},
		{name: "unknown ticket", forged: true, redeem: 1, wantOK: []bool{false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
			s := newTicketStore(clock.Now)
			ticket := s.Issue("alice")
			if tt.forged {
				ticket = "0123456789abcdef0123456789abcdef"
			}
			clock.Advance(tt.wait)
			for i := 0; i < tt.redeem; i++ {
				user, ok := s.Redeem(ticket)
				if ok != tt.wantOK[i] {
					t.Fatalf("redeem %d: ok = %v, want %v", i+1, ok, tt.wantOK[i])
				}
				if ok && user != tt.wantUser {
					t.Fatalf("redeem %d: user = %q, want %q", i+1, user, tt.wantUser)
				}
			}
		})
	}
}

func TestTicketsAreUnique(t *testing.T) {
	t.Parallel()
	s := newTicketStore(time.Now)
	seen := make(map[string]bool)
	for i := 0; i < 100; i++ {
		tk := s.Issue("bob")
		if len(tk) != 32 || seen[tk] {
			t.Fatalf("ticket %d = %q: want 32 hex characters, never repeated", i, tk)
		}
		seen[tk] = true
	}
}

func TestTicketsStayBounded(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s := newTicketStore(clock.Now)
	first := s.Issue("old")
	clock.Advance(ticketTTL) // the first ticket has expired and can be swept
	for i := 0; i < maxTickets+10; i++ {
		s.Issue("u")
	}
	if n := len(s.tickets); n > maxTickets {
		t.Fatalf("%d tickets kept, want at most %d", n, maxTickets)
	}
	if _, ok := s.Redeem(first); ok {
		t.Fatal("an expired ticket redeemed after the store filled up")
	}
}
