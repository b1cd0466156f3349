package router

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// clientEvent is the decoded envelope of a client frame. Members other than
// "event" are kept raw so each handler reads what it needs.
type clientEvent struct {
	name   string
	fields map[string]json.RawMessage
}

// field returns a member of the event, or nil.
func (e *clientEvent) field(name string) json.RawMessage { return e.fields[name] }

// str returns a member that is a JSON string.
func (e *clientEvent) str(name string) (string, bool) {
	raw := e.fields[name]
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// decodeEvent parses a client frame; ok is false when it is not a JSON
// object with a string event of at most 40 characters. A frame that is not
// valid UTF-8 is not JSON: nothing of it is ever echoed, so the router's
// text frames stay valid UTF-8 (a browser closes with 1007 otherwise).
func decodeEvent(frame []byte) (clientEvent, bool) {
	trimmed := bytes.TrimLeft(frame, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || !utf8.Valid(frame) {
		return clientEvent{}, false
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(frame, &fields) != nil {
		return clientEvent{}, false
	}
	ev := clientEvent{fields: fields}
	name, ok := ev.str("event")
	if !ok || len([]rune(name)) > maxEventName {
		return clientEvent{}, false
	}
	ev.name = name
	return ev, true
}

// answerLimited answers a frame that came over the rate limit.
func (s *session) answerLimited(ev sessionEvent) {
	if ev.bad {
		s.countEvent("invalid", false)
		s.reply(reply{bare: true, err: errBadFrame}.encode())
		return
	}
	s.countEvent(ev.name, false)
	s.reply(reply{event: ev.name, err: errRateLimited}.encode())
}

// handleFrame handles one client frame on the processor goroutine.
func (s *session) handleFrame(frame []byte) {
	ev, ok := decodeEvent(frame)
	if !ok {
		s.countEvent("invalid", false)
		s.reply(reply{bare: true, err: errBadFrame}.encode())
		return
	}
	cfg := s.r.cfg.Load()
	var ok2 bool
	switch ev.name {
	case "auth":
		ok2 = s.handleAuth(cfg, &ev)
	case "subscribe":
		ok2 = s.handleSubscribe(cfg, &ev)
	case "unsubscribe":
		ok2 = s.handleUnsubscribe(cfg, &ev)
	case "message":
		ok2 = s.handleMessage(cfg, &ev)
	case "ping":
		ok2 = s.handlePing(&ev)
	case "presence":
		ok2 = s.handlePresence(cfg, &ev)
	default:
		s.countEvent("unknown", false)
		s.reply(reply{event: ev.name, err: errEventNotFound}.encode())
		return
	}
	s.countEvent(ev.name, ok2)
}

// countEvent counts an event in wsrouter_events_total. Names a client
// chose are counted as "unknown", so clients cannot grow the label set.
func (s *session) countEvent(name string, ok bool) {
	switch name {
	case "auth", "subscribe", "unsubscribe", "message", "ping", "presence", "invalid":
	default:
		name = "unknown"
	}
	result := "error"
	if ok {
		result = "ok"
	}
	s.r.metrics.Events.WithLabelValues(name, result).Inc()
}

// handlePing answers {"event":"pong","data":X}, X cut to 128 characters
// when it is a string and null otherwise.
func (s *session) handlePing(ev *clientEvent) bool {
	data := json.RawMessage("null")
	if str, ok := ev.str("data"); ok {
		data = quote(truncateRunes(str, maxPingData))
	}
	s.reply(newObject(32+len(data)).str("event", "pong").raw("data", data).bytes())
	return true
}
