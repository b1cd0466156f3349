package api

import (
	"encoding/json"
	"fmt"

	"github.com/wsrouter/wsrouter/broker"
	"github.com/wsrouter/wsrouter/control"
)

// okAnswer is the answer of a command.
type okAnswer struct {
	Status string `json:"status"`
}

func (s *Server) disconnect(c *call) (any, error) {
	body, err := c.body()
	if err != nil {
		return nil, err
	}
	if err := body.onlyFields("", "match", "session"); err != nil {
		return nil, err
	}
	cmd := control.Command{Op: control.Disconnect}
	if err := selector(body, &cmd); err != nil {
		return nil, err
	}
	return s.command(c, cmd)
}

func (s *Server) unsubscribe(c *call) (any, error) {
	body, err := c.body()
	if err != nil {
		return nil, err
	}
	if err := body.onlyFields("", "match", "session", "subscription"); err != nil {
		return nil, err
	}
	name, err := body.str("", "subscription")
	if err != nil {
		return nil, err
	}
	if _, err := subscriptionName(c.st.cfg, "subscription", name); err != nil {
		return nil, err
	}
	cmd := control.Command{Op: control.Unsubscribe, Subscription: name}
	if err := selector(body, &cmd); err != nil {
		return nil, err
	}
	return s.command(c, cmd)
}

// selector reads "match" or "session" into cmd.
func selector(body object, cmd *control.Command) error {
	match, hasMatch := body["match"]
	session, hasSession := body["session"]
	switch {
	case hasMatch && hasSession:
		return badRequest("session", "give match or session, not both")
	case hasSession:
		id, err := asString("session", session)
		if err != nil {
			return err
		}
		cmd.Session = id
		return nil
	case hasMatch:
		if kind(match) != "an object" {
			return badRequest("match", "must be an object of auth fields and their values, got "+kind(match))
		}
		if err := json.Unmarshal(match, &cmd.Match); err != nil {
			return badRequest("match", "invalid JSON: "+err.Error())
		}
		if len(cmd.Match) == 0 {
			return badRequest("match", "must name at least one auth field (an empty match would select every session)")
		}
		return nil
	}
	return badRequest("match", "required: match (auth fields and their values) or session (a session id)")
}

// command publishes cmd on the control channel, which every node's router
// subscribes to. PUBLISH returns once Redis has handed the message to
// every subscribed connection, so every node that was serving when the
// answer is sent gets the command.
func (s *Server) command(c *call, cmd control.Command) (any, error) {
	payload, err := cmd.Encode()
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	if err := s.needRedis(); err != nil {
		return nil, err
	}
	if err := broker.Publish(c.ctx, s.opts.Redis, control.Channel(c.st.cfg.Redis.ChannelPrefix), payload).Err(); err != nil {
		return nil, unavailable(err)
	}
	return okAnswer{Status: "ok"}, nil
}
