package main

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// ticketTTL is how long an issued ticket can be redeemed.
const ticketTTL = 30 * time.Second

// maxTickets bounds the unredeemed tickets kept, so the public ticket
// endpoint cannot grow memory without limit.
const maxTickets = 10000

// ticketStore issues single-use tickets that expire after ticketTTL. A
// ticket is what a logged-in page hands to the router: short-lived and
// useless once redeemed, unlike a session cookie.
type ticketStore struct {
	now func() time.Time

	mu      sync.Mutex
	tickets map[string]issuedTicket
}

type issuedTicket struct {
	user    string
	expires time.Time
}

func newTicketStore(now func() time.Time) *ticketStore {
	return &ticketStore{now: now, tickets: make(map[string]issuedTicket)}
}

// Issue returns a new ticket for user.
func (s *ticketStore) Issue(user string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	t := hex.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if len(s.tickets) >= maxTickets {
		s.sweep(now)
	}
	if len(s.tickets) >= maxTickets {
		for k := range s.tickets { // still full: forget an arbitrary one
			delete(s.tickets, k)
			break
		}
	}
	s.tickets[t] = issuedTicket{user: user, expires: now.Add(ticketTTL)}
	return t
}

// Redeem returns the ticket's user and forgets the ticket; ok is false for
// an unknown, already redeemed or expired ticket.
func (s *ticketStore) Redeem(ticket string) (user string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, found := s.tickets[ticket]
	if !found {
		return "", false
	}
	delete(s.tickets, ticket)
	if !s.now().Before(it.expires) {
		return "", false
	}
	return it.user, true
}

func (s *ticketStore) sweep(now time.Time) {
	for k, it := range s.tickets {
		if !now.Before(it.expires) {
			delete(s.tickets, k)
		}
	}
}
