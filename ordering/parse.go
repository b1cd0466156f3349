package ordering

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
)

// ParseOrder reads an order value: a JSON number or a string holding a
// number ("12", "-3.5", " 1e3 "; whitespace around the number inside the
// string is allowed). ok is false for anything else: null, booleans,
// non-numeric strings, arrays, objects, and values that are NaN, infinite
// or overflow float64. Hexadecimal, underscores and the words inf and nan
// are not numbers here.
func ParseOrder(raw json.RawMessage) (order float64, ok bool) {
	b := trimSpace(raw)
	if len(b) == 0 {
		return 0, false
	}
	if b[0] != '"' {
		return parseNumber(b)
	}
	if len(b) < 2 || b[len(b)-1] != '"' {
		return 0, false
	}
	inner := b[1 : len(b)-1]
	if bytes.IndexByte(inner, '\\') >= 0 {
		// Escaped strings are rare; decode them the slow way.
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, false
		}
		return parseNumber(trimSpace([]byte(s)))
	}
	return parseNumber(trimSpace(inner))
}

// parseNumber parses a decimal floating-point number made only of digits,
// signs, a dot and an exponent marker.
func parseNumber(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
		default:
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// Key returns a canonical key for an order_key value: absent (nil or
// empty) and JSON null both map to "" (the default key); any other JSON
// value maps to its compact JSON text, so "1" and 1 are different keys.
// Compaction only removes insignificant whitespace: object members are not
// reordered and string escapes are kept as written. Text that is not valid
// JSON is used as is, without its surrounding whitespace.
func Key(raw json.RawMessage) string {
	b := trimSpace(raw)
	if len(b) == 0 || string(b) == "null" {
		return ""
	}
	if !hasSpace(b) {
		return string(b)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return string(b)
	}
	return buf.String()
}

// hasSpace reports whether b holds any JSON whitespace byte.
func hasSpace(b []byte) bool {
	for _, c := range b {
		if isSpace(c) {
			return true
		}
	}
	return false
}

// trimSpace cuts JSON whitespace from both ends of b.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}
