package callbacks

import "errors"

// errNotObject reports a 2xx body that is not a JSON object.
var errNotObject = errors.New("callbacks: answer is not a json object")

// errBadStatus reports a 2xx JSON object whose status is neither "ok" nor "error".
var errBadStatus = errors.New(`callbacks: answer status is not "ok" or "error"`)

// errTooLarge reports a response body larger than maxBodyBytes.
var errTooLarge = errors.New("callbacks: answer body too large")
