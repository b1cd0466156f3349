package callbacks

import (
	"context"
	"slices"
	"sync"
)

// Gate caps the callback requests in flight: at most limit in all, and at
// most share for any one service, so that a service that hangs holds only
// its share and the others keep theirs. Waiting requests get free slots in
// turn, one service after another, each service's in arrival order.
//
// One Gate can be given to several Clients (Options.Gate): a router that
// replaces its Client on reload keeps the Gate, so the requests of the old
// and the new Client together stay within the caps. A Gate is safe for
// concurrent use.
type Gate struct {
	mu       sync.Mutex
	limit    int // in all
	share    int // per service
	inFlight int
	services map[string]*gateService // only services with requests in flight or waiting
	turn     []*gateService          // services with waiting requests, next turn first
}

// gateService is one service's state in a Gate.
type gateService struct {
	name     string
	inFlight int
	waiting  []*gateWaiter
}

// gateWaiter is one request waiting for a slot.
type gateWaiter struct {
	ready   chan struct{} // closed when granted
	granted bool
}

// NewGate returns a Gate for at most limit requests in flight, at most
// share of them for one service. Values below 1 count as 1, and a share
// above limit as limit.
func NewGate(limit, share int) *Gate {
	g := &Gate{services: map[string]*gateService{}}
	g.SetLimits(limit, share)
	return g
}

// SetLimits changes the caps. Requests in flight keep their slots; when
// the caps shrink, new ones wait until enough have ended.
func (g *Gate) SetLimits(limit, share int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.limit = max(1, limit)
	g.share = min(max(1, share), g.limit)
	g.grantLocked()
}

// Limits returns the caps in force.
func (g *Gate) Limits() (limit, share int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limit, g.share
}

// InFlight returns the requests holding a slot, in all and for service.
func (g *Gate) InFlight(service string) (all, own int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if s := g.services[service]; s != nil {
		own = s.inFlight
	}
	return g.inFlight, own
}

// Waiting returns the requests waiting for a slot.
func (g *Gate) Waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, s := range g.turn {
		n += len(s.waiting)
	}
	return n
}

// acquire waits for a slot for service; it returns ctx's error, holding
// no slot, when ctx ends first. Each nil return is paired with release.
func (g *Gate) acquire(ctx context.Context, service string) error {
	g.mu.Lock()
	s := g.service(service)
	if len(s.waiting) == 0 && g.free(s) {
		g.take(s)
		g.mu.Unlock()
		return nil
	}
	w := &gateWaiter{ready: make(chan struct{})}
	s.waiting = append(s.waiting, w)
	if len(s.waiting) == 1 {
		g.turn = append(g.turn, s)
	}
	g.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if w.granted { // granted as ctx ended: hand the slot on
		g.releaseLocked(s)
		return ctx.Err()
	}
	s.waiting = slices.DeleteFunc(s.waiting, func(o *gateWaiter) bool { return o == w })
	if len(s.waiting) == 0 {
		g.turn = slices.DeleteFunc(g.turn, func(o *gateService) bool { return o == s })
	}
	g.forget(s)
	return ctx.Err()
}

// release frees a slot acquire gave to service.
func (g *Gate) release(service string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.releaseLocked(g.services[service])
}

func (g *Gate) releaseLocked(s *gateService) {
	s.inFlight--
	g.inFlight--
	g.grantLocked()
	g.forget(s)
}

// grantLocked hands free slots to waiting requests, one service's turn
// after another, skipping services at their share.
func (g *Gate) grantLocked() {
	for g.inFlight < g.limit {
		i := slices.IndexFunc(g.turn, func(s *gateService) bool { return s.inFlight < g.share })
		if i < 0 {
			return
		}
		s := g.turn[i]
		w := s.waiting[0]
		s.waiting[0] = nil
		s.waiting = s.waiting[1:]
		g.turn = slices.Delete(g.turn, i, i+1)
		if len(s.waiting) > 0 {
			g.turn = append(g.turn, s) // its next request waits for the others' turns
		}
		g.take(s)
		w.granted = true
		close(w.ready)
	}
}

// service returns the state of name, adding it when absent.
func (g *Gate) service(name string) *gateService {
	s := g.services[name]
	if s == nil {
		s = &gateService{name: name}
		g.services[name] = s
	}
	return s
}

// forget drops s once it has nothing in flight or waiting, so the map
// holds only services in use.
func (g *Gate) forget(s *gateService) {
	if s.inFlight == 0 && len(s.waiting) == 0 {
		delete(g.services, s.name)
	}
}

func (g *Gate) free(s *gateService) bool { return g.inFlight < g.limit && s.inFlight < g.share }

func (g *Gate) take(s *gateService) {
	s.inFlight++
	g.inFlight++
}
