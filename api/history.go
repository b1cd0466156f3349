package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/wsrouter/wsrouter/services"
)

// maxHistoryLimit is the default and largest limit of a history read.
const maxHistoryLimit = 1000

// History is the history of services that keep one (SPEC section 9).
type History interface {
	// Enabled reports whether svc keeps a history.
	Enabled(svc *services.Service) bool
	// Publish appends payload, the message a service would PUBLISH, to the
	// history of name and publishes it, in one step, and returns its
	// offset.
	Publish(ctx context.Context, name string, payload []byte, svc *services.Service) (offset string, err error)
	// Read returns up to limit messages of name newer than since, oldest
	// first, and the newest offset; without since, the newest limit
	// messages kept. A since that is no offset is an error wrapping
	// errBadOffset.
	Read(ctx context.Context, name, since string, limit int, svc *services.Service) (HistoryPage, error)
}

// HistoryPage is the answer of History.Read.
type HistoryPage struct {
	// Messages are oldest first.
	Messages []HistoryMessage
	// Newest is the newest offset of the name's history.
	Newest string
	// Recovered is true when every message after since is still kept
	// (always true without since).
	Recovered bool
}

// HistoryMessage is one message of a history.
type HistoryMessage struct {
	Offset string          `json:"offset"`
	Data   json.RawMessage `json:"data"`
}

// historyAnswer is the answer to history.
type historyAnswer struct {
	Status   string           `json:"status"`
	Messages []HistoryMessage `json:"messages"`
	Offset   string           `json:"offset"`
	// Recovered is given with since: false when messages after since are
	// gone (since is from another epoch, or older than the oldest kept).
	Recovered *bool `json:"recovered,omitempty"`
}

func (s *Server) history(c *call) (any, error) {
	q := c.req.URL.Query()
	if err := onlyParams(q, "subscription", "since", "limit"); err != nil {
		return nil, err
	}
	name, svc, err := nameParam(c, q)
	if err != nil {
		return nil, err
	}
	limit := maxHistoryLimit
	if raw := q.Get("limit"); q.Has("limit") {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxHistoryLimit {
			return nil, badRequest("limit", fmt.Sprintf("must be a whole number from 1 to %d, got %q", maxHistoryLimit, clip(raw)))
		}
		limit = n
	}
	if s.opts.History == nil || !s.opts.History.Enabled(svc) {
		return nil, badRequest("subscription", fmt.Sprintf("service %q keeps no history (services.%s.history is not set)", serviceOf(name), serviceOf(name)))
	}
	if err := s.needRedis(); err != nil {
		return nil, err
	}
	since := q.Get("since")
	if q.Has("since") && since == "" {
		return nil, badRequest("since", "must not be empty; leave it out for the newest messages")
	}
	page, err := s.opts.History.Read(c.ctx, name, since, limit, svc)
	if errors.Is(err, errBadOffset) {
		return nil, badRequest("since", fmt.Sprintf("%q is not an offset this router handed out", clip(since)))
	}
	if err != nil {
		return nil, unavailable(err)
	}
	if page.Messages == nil {
		page.Messages = []HistoryMessage{}
	}
	ans := historyAnswer{Status: "ok", Messages: page.Messages, Offset: page.Newest}
	if since != "" {
		ans.Recovered = &page.Recovered
	}
	return ans, nil
}

// onlyParams refuses query parameters other than allowed, and repeated
// ones.
func onlyParams(q url.Values, allowed ...string) error {
	for k, v := range q {
		known := false
		for _, a := range allowed {
			known = known || k == a
		}
		if !known {
			return badRequest(clip(k), "unknown query parameter")
		}
		if len(v) > 1 {
			return badRequest(k, "given more than once")
		}
	}
	return nil
}

// nameParam reads the subscription query parameter.
func nameParam(c *call, q url.Values) (string, *services.Service, error) {
	if !q.Has("subscription") {
		return "", nil, badRequest("subscription", "required query parameter")
	}
	name := q.Get("subscription")
	if name == "" {
		return "", nil, badRequest("subscription", "must not be empty")
	}
	svc, err := subscriptionName(c.st.cfg, "subscription", name)
	return name, svc, err
}

// serviceOf is the service part of a valid subscription name.
func serviceOf(name string) string {
	for i := range len(name) {
		if name[i] == '.' {
			return name[:i]
		}
	}
	return name
}
