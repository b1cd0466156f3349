package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/history"
)

// publisher sends a message to the clients subscribed to a subscription.
type publisher interface {
	Publish(ctx context.Context, subscription string, msg []byte) error
}

// bookHistory is the books service's history in config.example.yaml. The
// app appends with these settings; the router reads what is kept.
var bookHistory = history.Settings{Size: 100, TTL: 10 * time.Minute}

// historyPublisher publishes with the router's publish script: each
// message is kept in the subscription's history and carries an offset, so
// a page that was cut off (a router restart, a network change) gets the
// edits it missed when it subscribes again with "since".
type historyPublisher struct {
	store *history.Store
	set   history.Settings
}

// newHistoryPublisher publishes on rdb under the router's channel prefix.
func newHistoryPublisher(rdb *redis.Client, prefix string) historyPublisher {
	return historyPublisher{store: history.New(rdb, prefix, history.Options{}), set: bookHistory}
}

// Publish appends msg to the history of subscription and publishes it.
func (p historyPublisher) Publish(ctx context.Context, subscription string, msg []byte) error {
	prepared, err := history.Prepare(subscription, msg)
	if err != nil {
		return fmt.Errorf("books: publish to %s: %w", subscription, err)
	}
	if _, err := p.store.Publish(ctx, subscription, prepared, p.set); err != nil {
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
