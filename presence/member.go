package presence

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// Member renders the member of a subscription: a JSON object of the
// presence fields that have a value, keys sorted, values compacted, so that
// equal values give equal bytes on every node. A subscription with none of
// the fields is the member {}.
func Member(fields []string, value func(field string) (json.RawMessage, bool)) (string, error) {
	names := slices.Clone(fields)
	slices.Sort(names)
	names = slices.Compact(names)
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	for _, f := range names {
		v, ok := value(f)
		if !ok {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		key, err := json.Marshal(f)
		if err != nil {
			return "", fmt.Errorf("presence: field name %q: %w", f, err)
		}
		b.Write(key)
		b.WriteByte(':')
		if err := json.Compact(&b, v); err != nil {
			return "", fmt.Errorf("presence: value of %q: %w", f, err)
		}
	}
	b.WriteByte('}')
	return b.String(), nil
}
