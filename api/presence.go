package api

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/wsrouter/wsrouter/services"
)

// Presence is who is subscribed to a name, across every node (SPEC
// section 13).
type Presence interface {
	// Enabled reports whether svc keeps presence.
	Enabled(svc *services.Service) bool
	// Members returns the members of name, each an object of its presence
	// fields, sorted by their JSON.
	Members(ctx context.Context, name string, svc *services.Service) ([]json.RawMessage, error)
}

// presenceAnswer is the answer to presence.
type presenceAnswer struct {
	Status  string            `json:"status"`
	Members []json.RawMessage `json:"members"`
}

func (s *Server) presence(c *call) (any, error) {
	q := c.req.URL.Query()
	if err := onlyParams(q, "subscription"); err != nil {
		return nil, err
	}
	name, svc, err := nameParam(c, q)
	if err != nil {
		return nil, err
	}
	if s.opts.Presence == nil || !s.opts.Presence.Enabled(svc) {
		return nil, badRequest("subscription", fmt.Sprintf("service %q has no presence (services.%s.presence is not true)", serviceOf(name), serviceOf(name)))
	}
	if err := s.needRedis(); err != nil {
		return nil, err
	}
	members, err := s.opts.Presence.Members(c.ctx, name, svc)
	if err != nil {
		return nil, unavailable(err)
	}
	if members == nil {
		members = []json.RawMessage{}
	}
	return presenceAnswer{Status: "ok", Members: members}, nil
}
