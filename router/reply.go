package router

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// object builds one JSON object by appending members; it is how every
// frame the router sends is encoded, so that the bytes of shared parts
// (data, extra fields) are copied verbatim instead of re-encoded.
type object struct{ b []byte }

func newObject(size int) *object {
	o := &object{b: make([]byte, 0, size)}
	o.b = append(o.b, '{')
	return o
}

func (o *object) key(k string) {
	if len(o.b) > 1 {
		o.b = append(o.b, ',')
	}
	o.b = appendString(o.b, k)
	o.b = append(o.b, ':')
}

// str adds a string member.
func (o *object) str(k, v string) *object {
	o.key(k)
	o.b = appendString(o.b, v)
	return o
}

// raw adds a member whose value is already JSON.
func (o *object) raw(k string, v []byte) *object {
	o.key(k)
	o.b = append(o.b, v...)
	return o
}

// fields adds pre-encoded members (`"k":v,...` without braces).
func (o *object) fields(enc []byte) *object {
	if len(enc) == 0 {
		return o
	}
	if len(o.b) > 1 {
		o.b = append(o.b, ',')
	}
	o.b = append(o.b, enc...)
	return o
}

func (o *object) bytes() []byte { return append(o.b, '}') }

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigit[c>>4], hexDigit[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigit[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hexDigit = "0123456789abcdef"

// field is one named JSON value, such as an extra field of a subscription.
type field struct {
	name  string
	value json.RawMessage
}

// encodeFields renders fields as `"a":1,"b":"x"` for object.fields.
func encodeFields(fs []field) []byte {
	if len(fs) == 0 {
		return nil
	}
	var b []byte
	for i, f := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.name)
		b = append(b, ':')
		b = append(b, f.value...)
	}
	return b
}

// reply is a response to a client event.
type reply struct {
	bare         bool // no "event" member: the frame could not be read at all
	event        string
	subscription json.RawMessage // echoed when the request named one
	err          string          // "" for ok
	extra        []byte          // encoded extra fields
	data         json.RawMessage // callback data, omitted when nil or null
	offset       string          // history offset of a subscribe reply, "" for none
	recovered    *bool           // recovery result of a subscribe with since, nil for none
}

func (r reply) encode() []byte {
	o := newObject(96 + len(r.subscription) + len(r.extra) + len(r.data))
	if !r.bare {
		o.str("event", r.event)
	}
	if len(r.subscription) > 0 {
		o.raw("subscription", r.subscription)
	}
	if r.err == "" {
		o.str("status", "ok")
	} else {
		o.str("status", "error").str("error", r.err)
	}
	o.fields(r.extra)
	if hasValue(r.data) {
		o.raw("data", r.data)
	}
	if r.offset != "" {
		o.str("offset", r.offset)
	}
	if r.recovered != nil {
		o.raw("recovered", []byte(strconv.FormatBool(*r.recovered)))
	}
	return o.bytes()
}

// hasValue reports whether raw holds a JSON value other than null.
func hasValue(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}

// quote returns s as a JSON string value.
func quote(s string) json.RawMessage { return appendString(nil, s) }

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
