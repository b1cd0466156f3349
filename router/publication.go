package router

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/wsrouter/wsrouter/history"
	"github.com/wsrouter/wsrouter/ordering"
	"github.com/wsrouter/wsrouter/throttle"
)

// publication is one message a service published, decoded once and shared
// by every subscription it is delivered to. It is immutable after decode.
type publication struct {
	name        string                     // subscription name, "service.topic"
	channel     string                     // for a wildcard subscription, the name published to; "" otherwise
	data        json.RawMessage            // "data", verbatim
	publishedAt json.RawMessage            // "published_at" as a JSON string, when valid
	top         map[string]json.RawMessage // every top-level member; only when the service filters
	opts        *pubOptions                // nil when no option applies
	receivedAt  time.Time
	plain       []byte         // the delivery frame without extra fields
	presence    *presenceEvent // set for a join or leave, which skips the filters

	// offset is set for messages published through the history of a
	// service that keeps one; nil otherwise (a pointer, so publications
	// without history stay as small as they were).
	offset *pubOffset
}

// pubOffset is a publication's history offset.
type pubOffset struct {
	raw json.RawMessage // "offset" as the JSON string published
	off history.Offset
}

// pubOptions are the per-subscription options a publication carries.
type pubOptions struct {
	hasOrder    bool
	order       float64
	orderKey    string
	throttle    time.Duration
	throttleKey string
}

// errMalformed marks a publication that is dropped.
var errMalformed = errors.New("malformed publication")

// decodePublication decodes payload published on the channel of subscription
// name. withTop keeps every top-level member, for field filters;
// withOffset takes the offset the publish script added, for services with
// history. A bad published_at is reported in warn and otherwise ignored.
func decodePublication(name string, payload []byte, withTop, withOffset bool, now time.Time) (p *publication, warn string, err error) {
	trimmed := bytes.TrimLeft(payload, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, "", fmt.Errorf("%w: not a JSON object", errMalformed)
	}
	if !utf8.Valid(payload) {
		// Its data would go out verbatim in text frames, which browsers
		// close with 1007 when they are not UTF-8.
		return nil, "", fmt.Errorf("%w: not valid UTF-8", errMalformed)
	}
	// Keys are matched exactly ("Data" is not "data"), which decoding into
	// a struct would not do.
	var top map[string]json.RawMessage
	if err := json.Unmarshal(payload, &top); err != nil {
		return nil, "", fmt.Errorf("%w: %v", errMalformed, err)
	}
	var sub string
	if raw := top["subscription"]; len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &sub) != nil {
		return nil, "", fmt.Errorf("%w: \"subscription\" missing or not a string", errMalformed)
	}
	if sub != name {
		return nil, "", fmt.Errorf("%w: \"subscription\" is %q on the channel of %q", errMalformed, sub, name)
	}
	data, ok := top["data"]
	if !ok {
		return nil, "", fmt.Errorf("%w: no \"data\"", errMalformed)
	}
	p = &publication{name: name, data: data, receivedAt: now}
	if at := top["published_at"]; len(at) > 0 && string(at) != "null" {
		var s string
		if json.Unmarshal(at, &s) == nil && validTimestamp(s) {
			p.publishedAt = at
		} else {
			warn = fmt.Sprintf("published_at %s is not an ISO 8601 date-time; left out", truncateRunes(string(at), 64))
		}
	}
	if opts := top["options"]; len(opts) > 0 && opts[0] == '{' {
		p.opts = decodeOptions(opts)
	}
	if withTop {
		p.top = top
	}
	if withOffset {
		p.takeOffset(top["offset"])
	}
	p.plain = p.encode(nil)
	return p, warn, nil
}

// forWildcard makes p, decoded for the name it was published to, a
// delivery of the wildcard subscription name: "subscription" is the
// wildcard name and "channel" the name published to.
func (p *publication) forWildcard(name string) {
	p.name, p.channel = name, p.name
	p.plain = p.encode(nil)
}

// takeOffset keeps raw as the publication's offset when it is one; anything
// else (a publisher's own "offset" on a plain PUBLISH) is left out.
func (p *publication) takeOffset(raw json.RawMessage) {
	if len(raw) < 2 || raw[0] != '"' {
		return
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return
	}
	if off, ok := history.ParseOffset(s); ok {
		p.offset = &pubOffset{raw: raw, off: off}
	}
}

// decodeOptions reads a publication's options object (exact keys).
func decodeOptions(raw json.RawMessage) *pubOptions {
	var opts map[string]json.RawMessage
	if json.Unmarshal(raw, &opts) != nil {
		return nil
	}
	var o pubOptions
	if order, ok := ordering.ParseOrder(opts["order"]); ok {
		o.hasOrder, o.order, o.orderKey = true, order, ordering.Key(opts["order_key"])
	}
	if period, ok := throttle.ParsePeriod(opts["throttle"]); ok && period > 0 {
		o.throttle, o.throttleKey = period, ordering.Key(opts["throttle_key"])
	}
	if !o.hasOrder && o.throttle == 0 {
		return nil
	}
	return &o
}

// encode renders the delivery frame with the given extra fields.
func (p *publication) encode(extra []byte) []byte {
	o := newObject(64 + len(p.name) + len(p.data) + len(extra) + len(p.publishedAt))
	o.str("event", "message").str("subscription", p.name).raw("data", p.data)
	if p.channel != "" {
		o.str("channel", p.channel)
	}
	o.fields(extra)
	if p.publishedAt != nil {
		o.raw("published_at", p.publishedAt)
	}
	if p.offset != nil {
		o.raw("offset", p.offset.raw)
	}
	return o.bytes()
}

// encodeStamped renders the frame with received_at and sent_at, for
// websocket.delivery_timestamps.
func (p *publication) encodeStamped(extra []byte, sent time.Time) []byte {
	frame := p.encode(extra)
	frame = frame[:len(frame)-1]
	frame = append(frame, `,"received_at":`...)
	frame = appendString(frame, formatStamp(p.receivedAt))
	frame = append(frame, `,"sent_at":`...)
	frame = appendString(frame, formatStamp(sent))
	return append(frame, '}')
}

func formatStamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}

// encodeCache reuses one encoding per distinct set of extra fields within
// one fan-out, so subscriptions with equal extra fields share bytes.
type encodeCache struct {
	extra []byte
	frame []byte
}

func (c *encodeCache) get(p *publication, extra []byte) []byte {
	if len(extra) == 0 {
		return p.plain
	}
	if c == nil {
		return p.encode(extra)
	}
	if c.frame != nil && bytes.Equal(c.extra, extra) {
		return c.frame
	}
	c.extra, c.frame = extra, p.encode(extra)
	return c.frame
}

// timestampLayouts are the ISO 8601 date-time forms published_at accepts.
// Seconds may be left out ("2026-11-23T14:00"), as ISO 8601 allows.
var timestampLayouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04Z07:00",
	"2006-01-02 15:04",
}

func validTimestamp(s string) bool {
	for _, layout := range timestampLayouts {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}
