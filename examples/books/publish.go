package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// publisher sends a message to the clients subscribed to a subscription.
type publisher interface {
	Publish(ctx context.Context, subscription string, msg []byte) error
}

// redisPublisher PUBLISHes to the router's Redis channel of a subscription.
type redisPublisher struct {
	rdb    *redis.Client
	prefix string
}

// Publish PUBLISHes msg to channel prefix+subscription.
func (p redisPublisher) Publish(ctx context.Context, subscription string, msg []byte) error {
	if err := p.rdb.Publish(ctx, p.prefix+subscription, msg).Err(); err != nil {
		return fmt.Errorf("books: publish to %s: %w", subscription, err)
	}
	return nil
}

// publication is what the router expects on a channel (SPEC section 4):
// the subscription name, the data for the clients, and delivery options.
type publication struct {
	Subscription string         `json:"subscription"`
	Data         any            `json:"data"`
	Options      map[string]any `json:"options,omitempty"`
}

func (p publication) encode() []byte {
	b, _ := json.Marshal(p) // only maps, strings and numbers: cannot fail
	return b
}
