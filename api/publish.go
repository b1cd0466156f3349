package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/wsrouter/wsrouter/broker"
	"github.com/wsrouter/wsrouter/services"
)

// maxNames bounds the copies one call publishes (names of a publish, or of
// every message of a batch): a small body must not turn into unbounded
// Redis traffic.
const maxNames = 1000

// outgoing is one message for one name, ready to send.
type outgoing struct {
	name    string
	svc     *services.Service
	payload []byte
}

// publishAnswer is the answer to a publish.
type publishAnswer struct {
	Status  string            `json:"status"`
	Offsets map[string]string `json:"offsets"`
}

// batchAnswer is the answer to a publish_batch.
type batchAnswer struct {
	Status  string              `json:"status"`
	Offsets []map[string]string `json:"offsets"`
}

func (s *Server) publish(c *call) (any, error) {
	body, err := c.body()
	if err != nil {
		return nil, err
	}
	msgs, err := preparePublish(c.st.cfg, "", body, maxNames)
	if err != nil {
		return nil, err
	}
	offsets, err := s.send(c.ctx, [][]outgoing{msgs})
	if err != nil {
		return nil, err
	}
	return publishAnswer{Status: "ok", Offsets: offsets[0]}, nil
}

func (s *Server) publishBatch(c *call) (any, error) {
	body, err := c.body()
	if err != nil {
		return nil, err
	}
	if err := body.onlyFields("", "messages"); err != nil {
		return nil, err
	}
	raw, ok := body["messages"]
	if !ok {
		return nil, badRequest("messages", "required: a list of publish objects")
	}
	var items []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		return nil, badRequest("messages", "must be a list of publish objects, got "+kind(raw))
	}
	switch {
	case len(items) == 0:
		return nil, badRequest("messages", "must not be empty")
	case len(items) > maxNames:
		return nil, badRequest("messages", fmt.Sprintf("at most %d messages in one call, got %d", maxNames, len(items)))
	}
	batch := make([][]outgoing, len(items))
	left := maxNames
	for i, item := range items {
		field := "messages[" + strconv.Itoa(i) + "]"
		o, err := parseObject(field, item)
		if err != nil {
			return nil, err
		}
		if batch[i], err = preparePublish(c.st.cfg, field+".", o, left); err != nil {
			return nil, err
		}
		left -= len(batch[i])
	}
	offsets, err := s.send(c.ctx, batch)
	if err != nil {
		return nil, err
	}
	return batchAnswer{Status: "ok", Offsets: offsets}, nil
}

// preparePublish checks one publish object and renders the message for
// each of its names, the object a service would PUBLISH (SPEC section 4):
// its members as given, with "subscription" set to the name. At most
// budget names are allowed.
func preparePublish(cfg *services.Config, prefix string, o object, budget int) ([]outgoing, error) {
	names, err := publishNames(prefix, o, budget)
	if err != nil {
		return nil, err
	}
	if _, ok := o["data"]; !ok {
		return nil, badRequest(prefix+"data", "required (null counts)")
	}
	if opts, ok := o["options"]; ok && kind(opts) != "an object" && kind(opts) != "null" {
		return nil, badRequest(prefix+"options", "must be an object, got "+kind(opts))
	}
	if _, ok := o["offset"]; ok {
		return nil, badRequest(prefix+"offset", "is set by the router for services with history; leave it out")
	}
	if at, ok := o["published_at"]; ok && kind(at) != "a string" && kind(at) != "null" {
		return nil, badRequest(prefix+"published_at", "must be an ISO 8601 date-time string, got "+kind(at))
	}
	msg := make(object, len(o))
	for k, v := range o {
		if k != "subscriptions" {
			msg[k] = v
		}
	}
	out := make([]outgoing, 0, len(names))
	for i, name := range names {
		field := prefix + "subscription"
		if _, many := o["subscriptions"]; many {
			field = prefix + "subscriptions[" + strconv.Itoa(i) + "]"
		}
		svc, err := subscriptionName(cfg, field, name)
		if err != nil {
			return nil, err
		}
		msg["subscription"], _ = json.Marshal(name)
		payload, err := json.Marshal(msg)
		if err != nil {
			return nil, fmt.Errorf("api: encode publish: %w", err)
		}
		out = append(out, outgoing{name: name, svc: svc, payload: payload})
	}
	return out, nil
}

// publishNames reads "subscription" or "subscriptions".
func publishNames(prefix string, o object, budget int) ([]string, error) {
	one, hasOne := o["subscription"]
	many, hasMany := o["subscriptions"]
	switch {
	case hasOne && hasMany:
		return nil, badRequest(prefix+"subscriptions", "give subscription or subscriptions, not both")
	case hasOne:
		name, err := asString(prefix+"subscription", one)
		if err != nil {
			return nil, err
		}
		if budget < 1 {
			return nil, badRequest(prefix+"subscription", fmt.Sprintf("at most %d names in one call", maxNames))
		}
		return []string{name}, nil
	case hasMany:
		var list []json.RawMessage
		if len(many) == 0 || many[0] != '[' || json.Unmarshal(many, &list) != nil {
			return nil, badRequest(prefix+"subscriptions", "must be a list of strings, got "+kind(many))
		}
		if len(list) == 0 {
			return nil, badRequest(prefix+"subscriptions", "must not be empty")
		}
		if len(list) > budget {
			return nil, badRequest(prefix+"subscriptions", fmt.Sprintf("at most %d names in one call, got %d", maxNames, maxNames-budget+len(list)))
		}
		names := make([]string, len(list))
		seen := make(map[string]int, len(list))
		for i, raw := range list {
			field := prefix + "subscriptions[" + strconv.Itoa(i) + "]"
			name, err := asString(field, raw)
			if err != nil {
				return nil, err
			}
			if j, dup := seen[name]; dup {
				return nil, badRequest(field, fmt.Sprintf("%q is also at index %d", clip(name), j))
			}
			seen[name] = i
			names[i] = name
		}
		return names, nil
	}
	return nil, badRequest(prefix+"subscription", "required (or subscriptions, a list of names)")
}

// send publishes every message in order: plain ones with PUBLISH, exactly
// as a service does, pipelined; those of history services through the
// history, which appends and publishes in one step. It returns the offsets
// of each group.
func (s *Server) send(ctx context.Context, groups [][]outgoing) ([]map[string]string, error) {
	if err := s.needRedis(); err != nil {
		return nil, err
	}
	prefix := s.state.Load().cfg.Redis.ChannelPrefix
	offsets := make([]map[string]string, len(groups))
	pipe := s.opts.Redis.Pipeline()
	flush := func() error {
		if pipe.Len() == 0 {
			return nil
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return unavailable(err)
		}
		return nil
	}
	for i, group := range groups {
		offsets[i] = map[string]string{}
		for _, m := range group {
			if s.opts.History == nil || !s.opts.History.Enabled(m.svc) {
				if broker.IsCluster(s.opts.Redis) {
					pipe.SPublish(ctx, prefix+m.name, m.payload)
				} else {
					pipe.Publish(ctx, prefix+m.name, m.payload)
				}
				continue
			}
			if err := flush(); err != nil { // keeps the order of the call
				return nil, err
			}
			off, err := s.opts.History.Publish(ctx, m.name, m.payload, m.svc)
			if err != nil {
				return nil, unavailable(err)
			}
			offsets[i][m.name] = off
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return offsets, nil
}
