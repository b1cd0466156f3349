package router

import (
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingConn is a net.Conn whose writes are recorded; nothing else of it
// may be used.
type recordingConn struct {
	net.Conn
	mu     sync.Mutex
	writes []string
	err    error
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	c.writes = append(c.writes, string(p))
	return len(p), nil
}

func TestCoalescer(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", maxHeld/2+1)
	cases := []struct {
		name  string
		steps func(c *coalescer) error
		want  []string
	}{
		{"not holding writes through", func(c *coalescer) error {
			_, _ = c.Write([]byte("a"))
			_, err := c.Write([]byte("b"))
			return err
		}, []string{"a", "b"}},
		{"held until flush, then one write", func(c *coalescer) error {
			c.holdBack()
			_, _ = c.Write([]byte("a"))
			_, _ = c.Write([]byte("b"))
			return c.flush()
		}, []string{"ab"}},
		{"flush with nothing held writes nothing", func(c *coalescer) error {
			c.holdBack()
			return c.flush()
		}, nil},
		{"at most maxHeld per write", func(c *coalescer) error {
			c.holdBack()
			_, _ = c.Write([]byte(big))
			_, _ = c.Write([]byte(big))
			return c.flush()
		}, []string{big, big}},
		{"a write after flush goes straight out", func(c *coalescer) error {
			c.holdBack()
			_, _ = c.Write([]byte("a"))
			if err := c.flush(); err != nil {
				return err
			}
			_, err := c.Write([]byte("b"))
			return err
		}, []string{"a", "b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rc := &recordingConn{}
			if err := tc.steps(&coalescer{conn: rc}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rc.writes, tc.want) {
				t.Errorf("socket writes %q, want %q", rc.writes, tc.want)
			}
		})
	}
}

// TestCoalescerWriteDeadline: a socket write that the peer does not take
// within the timeout fails with a deadline error, held bytes included.
func TestCoalescerWriteDeadline(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		write func(c *coalescer) error
	}{
		{"direct write", func(c *coalescer) error { _, err := c.Write([]byte("frame")); return err }},
		{"flush of held bytes", func(c *coalescer) error {
			c.holdBack()
			if _, err := c.Write([]byte("frame")); err != nil {
				return err
			}
			return c.flush()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			server, client := net.Pipe() // nobody reads client: writes block
			defer client.Close()
			defer server.Close()
			err := tc.write(&coalescer{conn: server, timeout: 20 * time.Millisecond})
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("write returned %v, want a deadline error", err)
			}
		})
	}
}
