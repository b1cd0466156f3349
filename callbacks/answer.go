package callbacks

import (
	"encoding/json"
	"fmt"
)

// Statuses of an Answer.
const (
	StatusOK    = "ok"
	StatusError = "error"
)

// UnavailableError is the Error text of the answer given when a service
// could not be reached within the configured tries.
const UnavailableError = "Service unavailable."

// Answer is a service's reply to a callback. A final non-2xx reply is
// always Status "error", whatever its body says; its Error, Data and Fields
// come from the body when that is a JSON object.
type Answer struct {
	Status string                     // "ok" or "error"
	Error  string                     // the answer's "error" text; "" when absent or not a string
	Data   json.RawMessage            // the "data" value verbatim; nil when the key is absent ("null" when it is JSON null)
	Fields map[string]json.RawMessage // the whole JSON object as returned (for auth_fields, authorizer_fields, options)
}

// OK reports whether the service answered with status "ok".
func (a *Answer) OK() bool { return a.Status == StatusOK }

// Unavailable reports whether a is the answer given once tries run out:
// Status "error", Error "Service unavailable.".
func (a *Answer) Unavailable() bool {
	return a.Status == StatusError && a.Error == UnavailableError
}

// unavailable returns the answer for a service that could not be reached.
func unavailable() *Answer {
	return &Answer{
		Status: StatusError,
		Error:  UnavailableError,
		Fields: map[string]json.RawMessage{
			"status": json.RawMessage(`"error"`),
			"error":  json.RawMessage(`"Service unavailable."`),
		},
	}
}

// parseAnswer decodes a 2xx body, which must be a JSON object whose status
// is "ok" or "error".
func parseAnswer(body []byte) (*Answer, error) {
	fields, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	var status string
	if err := json.Unmarshal(fields["status"], &status); err != nil || (status != StatusOK && status != StatusError) {
		return nil, errBadStatus
	}
	return fromFields(status, fields), nil
}

// parseFinal decodes the body of a final non-2xx reply: always an error
// answer, with the body's "error" text and "data" when it is a JSON object
// that has them.
func parseFinal(body []byte) *Answer {
	fields, err := decodeObject(body)
	if err != nil {
		return &Answer{Status: StatusError}
	}
	return fromFields(StatusError, fields)
}

// decodeObject decodes body as one JSON object.
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, fmt.Errorf("%w: %w", errNotObject, err)
	}
	if fields == nil { // the body was JSON null
		return nil, errNotObject
	}
	return fields, nil
}

// fromFields builds an Answer with the given status from a decoded object.
func fromFields(status string, fields map[string]json.RawMessage) *Answer {
	a := &Answer{Status: status, Data: fields["data"], Fields: fields}
	var text string
	if json.Unmarshal(fields["error"], &text) == nil {
		a.Error = text
	}
	return a
}
