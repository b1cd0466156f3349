package router

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wsrouter/wsrouter/history"
	"github.com/wsrouter/wsrouter/metrics"
	"github.com/wsrouter/wsrouter/services"
)

// recovery is what a subscribe on a service with history read from it
// (SPEC section 9).
type recovery struct {
	newest    history.Offset // the name's newest offset at the read
	since     bool           // the subscribe carried "since"
	recovered bool           // every message after since was still kept
	messages  []*publication // the messages after since, oldest first
}

// duplicate reports whether p, held back during the subscribe or arriving
// late through pub/sub, was delivered from the history already (or is
// older than since). Publishing is atomic in Redis, but the pub/sub
// connection may bring a message after the history read saw it.
func (rec *recovery) duplicate(p *publication) bool {
	return rec != nil && rec.recovered && p.offset != nil &&
		p.offset.off.Epoch == rec.newest.Epoch && p.offset.off.Seq <= rec.newest.Seq
}

// replyFields returns the offset and recovered members of the ok reply.
func (rec *recovery) replyFields() (string, *bool) {
	if rec == nil {
		return "", nil
	}
	if !rec.since {
		return rec.newest.String(), nil
	}
	return rec.newest.String(), &rec.recovered
}

// readHistory reads the history of sub's name: its newest offset and, when
// since (the subscribe's "since", nil when absent) is an offset that can
// be recovered from, every message after it. It runs after the channel is
// subscribed, so a message published meanwhile is both held back and in
// the history; goLive skips such duplicates.
func (s *session) readHistory(cfg *services.Config, sub *subscription, h *services.History, since json.RawMessage) (*recovery, error) {
	set := history.Settings{Size: h.Size, TTL: h.TTL.Std()}
	ctx, cancel := context.WithTimeout(s.ctx, max(2*cfg.Redis.PingTimeout.Std(), 5*time.Second))
	defer cancel()
	rec := &recovery{since: since != nil}
	off, ok := parseSince(since)
	if !ok {
		newest, err := s.r.history.Newest(ctx, sub.name, set)
		if err != nil {
			return nil, err
		}
		rec.newest = newest
		if rec.since {
			s.r.recoveries(false)
		}
		return rec, nil
	}
	// More messages than the send queue holds next to the reply would close
	// the client as a slow consumer; reading one more is enough to know.
	room := max(s.out.limit-1, 0)
	res, err := s.r.history.Since(ctx, sub.name, off, set, room+1)
	if err != nil {
		return nil, err
	}
	rec.newest, rec.recovered = res.Newest, res.Recovered && fitsQueue(res.Messages, room, s.out.limitBytes/2)
	if !rec.recovered {
		res.Messages = nil
	}
	s.r.recoveries(rec.recovered)
	svc, _ := cfg.Service(sub.service)
	withTop := svc != nil && len(svc.FilterFields) > 0
	now := time.Now()
	rec.messages = make([]*publication, 0, len(res.Messages))
	for _, m := range res.Messages {
		p, _, err := decodePublication(sub.name, m.Payload, withTop, true, now)
		if err != nil {
			s.r.drops.malformed.Inc()
			s.logger().Warn("history message dropped", "subscription", sub.name, "offset", m.Offset.String(), "err", err)
			continue
		}
		rec.messages = append(rec.messages, p)
	}
	return rec, nil
}

// fitsQueue reports whether msgs fit in limit frames and limitBytes bytes.
func fitsQueue(msgs []history.Message, limit int, limitBytes int64) bool {
	if len(msgs) > limit {
		return false
	}
	var n int64
	for _, m := range msgs {
		n += int64(len(m.Payload))
	}
	return n <= limitBytes
}

// parseSince reads a subscribe's "since": an offset in a JSON string.
func parseSince(raw json.RawMessage) (history.Offset, bool) {
	if len(raw) < 2 || raw[0] != '"' || len(raw) > 128 {
		return history.Offset{}, false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return history.Offset{}, false
	}
	return history.ParseOffset(s)
}

// recoveries counts one recovery result.
func (r *Router) recoveries(recovered bool) {
	result := metrics.NotRecovered
	if recovered {
		result = metrics.Recovered
	}
	r.metrics.HistoryRecoveries.WithLabelValues(result).Inc()
}

// errHistory wraps a failed history read for the log.
func errHistory(err error) error { return fmt.Errorf("router: history: %w", err) }
