// Package embedredis runs the in-process Redis-protocol server behind
// `redis.url: embedded`, so the router can be tried without installing Redis.
// It is meant for trying wsrouter out and for tests on machines without a
// redis-server; production uses a real Redis.
package embedredis

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// expiryTick is how often key TTLs are brought up to date. The in-process
// server does not age keys by itself, so without it history keys with a
// ttl would never expire.
const expiryTick = 100 * time.Millisecond

// Server is a running embedded Redis.
type Server struct {
	mr   *miniredis.Miniredis
	stop chan struct{}
	done sync.WaitGroup
	once sync.Once
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
	s := &Server{mr: mr, stop: make(chan struct{})}
	s.done.Add(1)
	go s.age()
	return s, nil
}

// age advances the server's key TTLs with the wall clock until Close.
func (s *Server) age() {
	defer s.done.Done()
	t := time.NewTicker(expiryTick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.mr.FastForward(now.Sub(last))
			last = now
		}
	}
}

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string { return s.mr.Addr() }

// URL returns a redis:// URL for clients of this server.
func (s *Server) URL() string { return "redis://" + s.mr.Addr() + "/0" }

// Close stops the server and drops its connections. It is safe to call
// more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.stop)
		s.done.Wait()
		s.mr.Close()
	})
}
