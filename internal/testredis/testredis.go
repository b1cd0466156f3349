// Package testredis gives tests a Redis of their own: a real redis-server
// started on a free loopback port when one is on PATH, and the embedded
// Redis-protocol server otherwise. Which one is used is printed once per
// test binary, so a CI log always says what was tested against.
package testredis

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/embedredis"
)

// Server is a Redis started for a test.
type Server struct {
	// Addr is the host:port to connect to.
	Addr string
	// Real is true for a redis-server process, false for the embedded one.
	Real bool

	cmd      *exec.Cmd
	embedded *embedredis.Server
	port     int
}

var announce sync.Once

// Start starts a Redis that stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := start(0)
	if err != nil {
		t.Fatalf("testredis: %v", err)
	}
	announce.Do(func() {
		if s.Real {
			fmt.Fprintln(os.Stderr, "testredis: tests use a real redis-server from PATH")
		} else {
			fmt.Fprintln(os.Stderr, "testredis: no redis-server on PATH; tests use the embedded Redis")
		}
	})
	t.Cleanup(s.Stop)
	return s
}

// URL is a redis:// URL for the server.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Client returns a go-redis client closed when the test ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	t.Cleanup(func() { c.Close() })
	return c
}

// Stop kills the server. It is safe to call more than once.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
	if s.embedded != nil {
		s.embedded.Close()
		s.embedded = nil
	}
}

// Restart starts the server again on the same port, for tests of Redis
// loss (only with a real redis-server).
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	n, err := start(s.port)
	if err != nil {
		t.Fatalf("testredis: restart: %v", err)
	}
	*s = *n
}

func start(port int) (*Server, error) {
	if port == 0 {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		port = p
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		e, err := embedredis.Start(addr)
		if err != nil {
			return nil, err
		}
		return &Server{Addr: e.Addr(), embedded: e, port: port}, nil
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "no")
	// The server dies with the test binary, even one killed by a timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	go func() { // drain its log so it never blocks on a full pipe
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
		}
	}()
	s := &Server{Addr: addr, Real: true, cmd: cmd, port: port}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := redis.NewClient(&redis.Options{Addr: addr})
		err := c.Ping(context.Background()).Err()
		c.Close()
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("redis-server on %s did not answer: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
