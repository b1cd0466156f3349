package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/wsrouter/wsrouter/services"
)

// object is a JSON object, its members kept verbatim.
type object map[string]json.RawMessage

// readObject reads a request body of at most limit bytes that must be one
// JSON object.
// A body announced larger than limit is refused before it is read, so a
// client that waits for "100 Continue" (curl does for large bodies) never
// sends it.
func readObject(w http.ResponseWriter, req *http.Request, limit int64) (object, error) {
	tooLarge := &Error{Status: http.StatusRequestEntityTooLarge,
		Text: fmt.Sprintf("body: larger than api.max_body_bytes (%d bytes)", limit)}
	if req.ContentLength > limit {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, tooLarge
		}
		return nil, badRequest("body", "cannot be read: "+err.Error())
	}
	return parseObject("body", body)
}

// parseObject decodes raw, which must be a JSON object.
func parseObject(field string, raw []byte) (object, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return nil, badRequest(field, "must be a JSON object, got nothing")
	}
	if trimmed[0] != '{' {
		return nil, badRequest(field, "must be a JSON object, got "+kind(trimmed))
	}
	var o object
	if err := json.Unmarshal(trimmed, &o); err != nil {
		return nil, badRequest(field, "invalid JSON: "+err.Error())
	}
	return o, nil
}

// kind names the JSON type of a value, for errors.
func kind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// onlyFields refuses members other than allowed, so that a misspelt field
// is not silently ignored.
func (o object) onlyFields(prefix string, allowed ...string) error {
	var unknown []string
	for k := range o {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return badRequest(prefix+unknown[0], "unknown field; expected "+strings.Join(allowed, ", "))
}

// str reads a required non-empty string member.
func (o object) str(prefix, name string) (string, error) {
	raw, ok := o[name]
	if !ok {
		return "", badRequest(prefix+name, "required")
	}
	return asString(prefix+name, raw)
}

// asString decodes a non-empty JSON string.
func asString(field string, raw json.RawMessage) (string, error) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", badRequest(field, "must be a string, got "+kind(raw))
	}
	if s == "" {
		return "", badRequest(field, "must not be empty")
	}
	return s, nil
}

// reservedService is the service part of the router's own channels
// (probe, control); no API call may name it.
const reservedService = "_wsrouter"

// serviceName is what a service may be called (SPEC section 2).
var serviceName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// subscriptionName checks a subscription name: SERVICE.TOPIC, both parts
// non-empty, of a configured service. It returns the service.
func subscriptionName(cfg *services.Config, field, name string) (*services.Service, error) {
	svc, topic, ok := strings.Cut(name, ".")
	switch {
	case !ok || svc == "" || topic == "":
		return nil, badRequest(field, fmt.Sprintf("invalid subscription name %q: must be SERVICE.TOPIC, both parts non-empty", clip(name)))
	case svc == reservedService:
		return nil, badRequest(field, fmt.Sprintf("invalid subscription name %q: the service name %s is reserved", clip(name), reservedService))
	case !serviceName.MatchString(svc):
		return nil, badRequest(field, fmt.Sprintf("invalid subscription name %q: a service name has only letters, digits, '-' and '_'", clip(name)))
	}
	s, ok := cfg.Service(svc)
	if !ok {
		return nil, badRequest(field, fmt.Sprintf("unknown service %q (not in services)", svc))
	}
	return s, nil
}

// clip shortens a value quoted in an error.
func clip(s string) string {
	const maxLen = 100
	if len(s) <= maxLen {
		return s
	}
	return strings.ToValidUTF8(s[:maxLen], "") + "..."
}
