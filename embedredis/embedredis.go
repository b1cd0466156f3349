// Package embedredis runs the in-process Redis-protocol server behind
// `redis.url: embedded`, so the router can be tried without installing Redis.
// It is meant for trying wsrouter out and for tests on machines without a
// redis-server; production uses a real Redis.
package embedredis

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/alicebob/miniredis/v2"
)

// Server is a running embedded Redis.
type Server struct {
	mr *miniredis.Miniredis
}

// Start listens on addr (host:port) and serves the Redis protocol there.
// When addr is taken, the error says so and suggests using the Redis that is
// probably listening there.
func Start(addr string) (*Server, error) {
	mr := miniredis.NewMiniRedis()
	if err := mr.StartAddr(addr); err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("embedredis: %s is already in use; if a Redis is listening there, set redis.url to redis://%s/0 instead of embedded: %w", addr, addr, err)
		}
		return nil, fmt.Errorf("embedredis: listen on %s: %w", addr, err)
	}
	return &Server{mr: mr}, nil
}

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string { return s.mr.Addr() }

// URL returns a redis:// URL for clients of this server.
func (s *Server) URL() string { return "redis://" + s.mr.Addr() + "/0" }

// Close stops the server and drops its connections.
func (s *Server) Close() { s.mr.Close() }
