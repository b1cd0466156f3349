// Package history keeps the newest messages of each subscription name in
// Redis, next to the name's channel, so that a client that reconnects can
// be given what it missed (SPEC section 9).
//
// A name's history is a list of its newest messages and a meta hash with
// its epoch and newest sequence number. The publish script (publish.lua)
// appends a message and publishes it in one atomic step, adding the
// message's offset to it; the read script (read.lua) returns the messages
// after an offset. Both keys of a name share the hash slot of the name's
// channel, so they work on a Redis Cluster too. Scripts run with EVALSHA
// and fall back to EVAL, on redis-server and on the embedded Redis alike.
package history

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// PublishScript is the text of the publish script, for publishers that run
// it themselves (documented with its command in docs/PUBLISHING.md).
//
//go:embed publish.lua
var PublishScript string

//go:embed read.lua
var readScript string

var (
	publishLua = redis.NewScript(PublishScript)
	readLua    = redis.NewScript(readScript)
)

// Settings are a service's history settings.
type Settings struct {
	// Size is how many of a name's newest messages are kept.
	Size int
	// TTL is how long a name's history lives after its last message.
	TTL time.Duration
}

// ttlMillis is the TTL as the scripts take it: whole milliseconds, at
// least one.
func (s Settings) ttlMillis() string {
	return strconv.FormatInt(max(s.TTL.Milliseconds(), 1), 10)
}

// Store reads and writes the histories under one channel prefix.
type Store struct {
	rdb     redis.Scripter
	prefix  string
	sharded bool
}

// Options tune a Store.
type Options struct {
	// Sharded publishes with SPUBLISH (Redis Cluster) instead of PUBLISH.
	Sharded bool
}

// New returns a Store that runs its scripts on rdb, for channels named
// channelPrefix + subscription name.
func New(rdb redis.Scripter, channelPrefix string, opts Options) *Store {
	return &Store{rdb: rdb, prefix: channelPrefix, sharded: opts.Sharded}
}

// Publish appends msg, a JSON object (see Prepare), to the history of name
// and publishes it on the name's channel with its offset added; it returns
// that offset.
func (s *Store) Publish(ctx context.Context, name string, msg []byte, set Settings) (Offset, error) {
	if set.Size < 1 {
		return Offset{}, fmt.Errorf("history: publish %s: size %d is not positive", name, set.Size)
	}
	channel := s.prefix + name
	list, meta := Keys(channel)
	cmd := "publish"
	if s.sharded {
		cmd = "spublish"
	}
	res, err := publishLua.Run(ctx, s.rdb, []string{list, meta}, channel, msg, set.Size, set.ttlMillis(), cmd).Text()
	if err != nil {
		return Offset{}, fmt.Errorf("history: publish %s: %w", name, err)
	}
	off, ok := ParseOffset(res)
	if !ok {
		return Offset{}, fmt.Errorf("history: publish %s: script returned offset %q", name, res)
	}
	return off, nil
}

// Message is one message of a history with its offset.
type Message struct {
	// Offset is the message's offset.
	Offset Offset
	// Payload is the message as it was published, "offset" included.
	Payload []byte
}

// Recovery is the answer to a read after an offset.
type Recovery struct {
	// Newest is the name's newest offset at the moment of the read; an
	// empty history has one too (sequence number 0 of the current epoch).
	Newest Offset
	// Recovered is true when every message after the offset is still
	// kept: the offset is of the current epoch, not newer than Newest and
	// not older than the oldest message kept.
	Recovered bool
	// Messages are the messages after the offset, oldest first; empty
	// unless Recovered.
	Messages []Message
}

// errReply marks a read script answer of an unexpected shape.
var errReply = errors.New("history: unexpected read script answer")

// Newest returns the newest offset of name, starting an epoch when the
// name has no history yet.
func (s *Store) Newest(ctx context.Context, name string, set Settings) (Offset, error) {
	rec, err := s.read(ctx, name, Offset{}, false, set, 0)
	return rec.Newest, err
}

// Since returns what name's history holds after since: at most limit
// messages (0: all that are kept).
func (s *Store) Since(ctx context.Context, name string, since Offset, set Settings, limit int) (Recovery, error) {
	return s.read(ctx, name, since, true, set, limit)
}

func (s *Store) read(ctx context.Context, name string, since Offset, withSince bool, set Settings, limit int) (Recovery, error) {
	list, meta := Keys(s.prefix + name)
	epoch := ""
	if withSince && since.Epoch != "" {
		epoch = since.Epoch
	}
	seq := strconv.FormatUint(since.Seq, 10)
	raw, err := readLua.Run(ctx, s.rdb, []string{list, meta}, set.ttlMillis(), epoch, seq, max(limit, 0)).Slice()
	if err != nil {
		return Recovery{}, fmt.Errorf("history: read %s: %w", name, err)
	}
	if len(raw) != 4 {
		return Recovery{}, fmt.Errorf("%w: %d elements", errReply, len(raw))
	}
	e, ok1 := raw[0].(string)
	top, ok2 := raw[1].(int64)
	kept, ok3 := raw[2].(int64)
	entries, ok4 := raw[3].([]any)
	if !ok1 || !ok2 || !ok3 || !ok4 || top < 0 || kept < 0 {
		return Recovery{}, fmt.Errorf("%w: %v", errReply, raw)
	}
	rec := Recovery{Newest: Offset{Epoch: e, Seq: uint64(top)}}
	if !withSince || since.Epoch != e || since.Seq > uint64(top) || since.Seq < uint64(top-kept) {
		return rec, nil
	}
	rec.Recovered = true
	rec.Messages = make([]Message, 0, len(entries))
	for i, entry := range entries {
		p, ok := entry.(string)
		if !ok {
			return Recovery{}, fmt.Errorf("%w: message %d is %T", errReply, i, entry)
		}
		rec.Messages = append(rec.Messages, Message{Offset: Offset{Epoch: e, Seq: since.Seq + 1 + uint64(i)}, Payload: []byte(p)})
	}
	return rec, nil
}
