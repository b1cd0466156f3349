package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"
)

// closedByRedis reports whether err says the other end closed the
// connection, rather than a timeout or this process ending it.
func closedByRedis(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// bufferCuts reads INFO stats' count of clients Redis closed for their
// output buffer limit; false when this Redis does not report it (before 7.2).
func (s *shard) bufferCuts(ctx context.Context) (int64, bool) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	info, err := s.cmd.Info(ctx, "stats").Result()
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "client_output_buffer_limit_disconnections:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// whyCut explains why Redis closed the pub/sub connection when the cause
// is its client-output-buffer-limit for pubsub clients, and returns "" when
// it cannot have been (Redis itself is unreachable, or its counter of such
// closes did not move since the connection was made, cutsBefore).
func (s *shard) whyCut(ctx context.Context, cutsBefore int64, counted bool) string {
	limit := "client-output-buffer-limit pubsub"
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if s.cmd.Ping(cctx).Err() != nil {
		return "" // Redis itself went away
	}
	if v, err := s.cmd.ConfigGet(cctx, "client-output-buffer-limit").Result(); err == nil {
		if _, pubsub, ok := strings.Cut(v["client-output-buffer-limit"], "pubsub "); ok {
			limit = "client-output-buffer-limit pubsub " + strings.TrimSpace(pubsub)
		}
	}
	if counted {
		if now, ok := s.bufferCuts(ctx); ok && now > cutsBefore {
			return fmt.Sprintf("%s exceeded: publications arrived faster than this node read them", limit)
		}
		return ""
	}
	// Redis before 7.2 does not count these closes; a pub/sub connection
	// closed while Redis answers on another one was closed by Redis on
	// purpose, and its output buffer limit is the usual reason.
	return fmt.Sprintf("most likely %s exceeded (Redis still answers on other connections): publications arrived faster than this node read them", limit)
}
