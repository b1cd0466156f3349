package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrMessage marks a message that cannot be published.
var ErrMessage = errors.New("history: bad message")

// Prepare checks a message to publish to subscription name and returns it
// as the publish script takes it. obj is the object a service publishes
// (SPEC section 4): a JSON object with a "data" member; its "subscription"
// may be left out and is then set to name, but must equal name when given.
// "offset" is set by the script and may not be given.
func Prepare(name string, obj []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(obj)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMessage)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMessage, err)
	}
	if _, ok := top["data"]; !ok {
		return nil, fmt.Errorf("%w: no \"data\" member", ErrMessage)
	}
	if _, ok := top["offset"]; ok {
		return nil, fmt.Errorf("%w: \"offset\" is set by the router's script", ErrMessage)
	}
	want, _ := json.Marshal(name)
	if sub, ok := top["subscription"]; ok {
		var got string
		if json.Unmarshal(sub, &got) != nil || got != name {
			return nil, fmt.Errorf("%w: \"subscription\" is %s, not %s", ErrMessage, sub, want)
		}
		return trimmed, nil
	}
	top["subscription"] = want
	out, err := json.Marshal(top)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMessage, err)
	}
	return out, nil
}
