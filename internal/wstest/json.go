package wstest

import (
	"encoding/json"
	"fmt"

	"github.com/wsrouter/wsrouter/control"
)

// SameJSON reports whether a and b, encoded as encoding/json encodes them,
// mean the same JSON: "1" is not 1, 1 is 1.0, members of objects in any
// order. Pass JSON text as a json.RawMessage; a []byte would be encoded as
// a base64 string.
func SameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && control.JSONEqual(x, y)
}

// encode is a frame's or an answer's body: a string or []byte as it is,
// anything else as JSON.
func encode(v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return []byte(v), nil
	case []byte:
		return v, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("wstest: encode %T: %w", v, err)
	}
	return b, nil
}
