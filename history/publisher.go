package history

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/services"
)

// Publisher errors, for callers that tell bad input from a Redis failure.
var (
	// ErrName marks a subscription name that is not "service.topic".
	ErrName = errors.New("history: subscription name must be SERVICE.TOPIC")
	// ErrService marks a name whose service is not configured.
	ErrService = errors.New("history: service not configured")
)

// Publisher publishes as a service would, for the `wsrouter publish`
// command and the HTTP API: each message is checked, then appended to the
// history and published in one step when its service keeps a history, or
// published plainly otherwise.
type Publisher struct {
	rdb     redis.Cmdable
	store   *Store
	prefix  string
	sharded bool
}

// NewPublisher returns a Publisher for channels named channelPrefix +
// subscription name on rdb.
func NewPublisher(rdb redis.Cmdable, channelPrefix string, opts Options) *Publisher {
	return &Publisher{rdb: rdb, store: New(rdb, channelPrefix, opts), prefix: channelPrefix, sharded: opts.Sharded}
}

// Publish checks obj (see Prepare) for subscription name under cfg and
// publishes it. It returns the message's offset and true when the service
// keeps a history.
func (p *Publisher) Publish(ctx context.Context, cfg *services.Config, name string, obj []byte) (Offset, bool, error) {
	service, topic, ok := strings.Cut(name, ".")
	if !ok || service == "" || topic == "" {
		return Offset{}, false, fmt.Errorf("%w, got %q", ErrName, name)
	}
	svc, ok := cfg.Service(service)
	if !ok {
		return Offset{}, false, fmt.Errorf("%w: %q", ErrService, service)
	}
	msg, err := Prepare(name, obj)
	if err != nil {
		return Offset{}, false, err
	}
	if h := svc.History; h != nil {
		off, err := p.store.Publish(ctx, name, msg, Settings{Size: h.Size, TTL: h.TTL.Std()})
		return off, err == nil, err
	}
	if p.sharded {
		err = p.rdb.SPublish(ctx, p.prefix+name, msg).Err()
	} else {
		err = p.rdb.Publish(ctx, p.prefix+name, msg).Err()
	}
	if err != nil {
		return Offset{}, false, fmt.Errorf("history: publish %s: %w", name, err)
	}
	return Offset{}, false, nil
}
