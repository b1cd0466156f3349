package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/broker"
	"github.com/wsrouter/wsrouter/history"
	"github.com/wsrouter/wsrouter/presence"
	"github.com/wsrouter/wsrouter/services"
)

// errBadOffset marks a since that is no offset the router hands out.
var errBadOffset = errors.New("api: not an offset")

// redisHistory is History on the history package's scripts.
type redisHistory struct {
	rdb    redis.UniversalClient
	prefix string
	store  *history.Store
}

// NewHistory returns the History of the services under channelPrefix on
// rdb.
func NewHistory(rdb redis.UniversalClient, channelPrefix string) History {
	return &redisHistory{rdb: rdb, prefix: channelPrefix, store: history.New(rdb, channelPrefix, history.Options{Sharded: broker.IsCluster(rdb)})}
}

func settings(svc *services.Service) history.Settings {
	return history.Settings{Size: svc.History.Size, TTL: svc.History.TTL.Std()}
}

func (h *redisHistory) Enabled(svc *services.Service) bool { return svc != nil && svc.History != nil }

func (h *redisHistory) Publish(ctx context.Context, name string, payload []byte, svc *services.Service) (string, error) {
	msg, err := history.Prepare(name, payload)
	if err != nil {
		return "", err
	}
	off, err := h.store.Publish(ctx, name, msg, settings(svc))
	if err != nil {
		return "", err
	}
	return off.String(), nil
}

// Read answers after since, or without since the newest limit messages
// kept. A publish between its two Redis steps is retried over.
func (h *redisHistory) Read(ctx context.Context, name, since string, limit int, svc *services.Service) (HistoryPage, error) {
	set := settings(svc)
	if since != "" {
		off, ok := history.ParseOffset(since)
		if !ok {
			return HistoryPage{}, errBadOffset
		}
		rec, err := h.store.Since(ctx, name, off, set, limit)
		if err != nil {
			return HistoryPage{}, err
		}
		return page(rec)
	}
	list, _ := history.Keys(h.prefix + name)
	for range 3 {
		newest, err := h.store.Newest(ctx, name, set)
		if err != nil {
			return HistoryPage{}, err
		}
		kept, err := h.rdb.LLen(ctx, list).Result()
		if err != nil {
			return HistoryPage{}, fmt.Errorf("api: history of %s: %w", name, err)
		}
		n := min(uint64(kept), uint64(limit), newest.Seq)
		rec, err := h.store.Since(ctx, name, history.Offset{Epoch: newest.Epoch, Seq: newest.Seq - n}, set, limit)
		if err != nil {
			return HistoryPage{}, err
		}
		if rec.Recovered {
			return page(rec)
		}
	}
	return HistoryPage{}, fmt.Errorf("api: history of %s changed during three reads", name)
}

// page turns a read into the API's messages.
func page(rec history.Recovery) (HistoryPage, error) {
	p := HistoryPage{Newest: rec.Newest.String(), Recovered: rec.Recovered, Messages: make([]HistoryMessage, 0, len(rec.Messages))}
	for _, m := range rec.Messages {
		var top map[string]json.RawMessage
		if err := json.Unmarshal(m.Payload, &top); err != nil {
			return HistoryPage{}, fmt.Errorf("api: history message %s: %w", m.Offset, err)
		}
		p.Messages = append(p.Messages, HistoryMessage{Offset: m.Offset.String(), Data: top["data"]})
	}
	return p, nil
}

// trackerPresence is Presence on the presence package.
type trackerPresence struct {
	t *presence.Tracker
}

// NewPresence returns the Presence of the services under channelPrefix on
// rdb, reading as node nodeID.
func NewPresence(rdb redis.UniversalClient, channelPrefix, nodeID string) (Presence, error) {
	t, err := presence.New(presence.Options{Client: rdb, Prefix: channelPrefix, NodeID: nodeID,
		Publish: func(ctx context.Context, channel string, payload []byte) error {
			return broker.Publish(ctx, rdb, channel, payload).Err()
		}})
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	return &trackerPresence{t: t}, nil
}

func (p *trackerPresence) Enabled(svc *services.Service) bool { return svc != nil && svc.Presence }

func (p *trackerPresence) Members(ctx context.Context, name string, svc *services.Service) ([]json.RawMessage, error) {
	l, err := p.t.Members(ctx, name, 0, svc.PresenceEvents)
	if err != nil {
		return nil, err
	}
	return l.Members, nil
}
