package router

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsrouter/wsrouter/internal/wstest"
)

// TestShutdownDeadlineWithClientsThatNeverRead: clients that never read
// cannot hold a shutdown past its deadline, neither through the close
// handshake (nobody answers the close frame) nor through a write blocked
// on a full socket. At the deadline every socket is closed at once.
func TestShutdownDeadlineWithClientsThatNeverRead(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		payloads int // publications of 128 KiB each, left unread
	}{
		{"idle", 0},
		{"writes blocked", 48},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			cfg.WebSocket.PingInterval = 0
			cfg.Services["books"] = open()
			h := newHarness(t, cfg)
			var raws []net.Conn
			for range 3 {
				raws = append(raws, h.dialNonReader())
			}
			wstest.Eventually(t, 10*time.Second, "three subscriptions", func() bool { return h.subscriptions("books.x") == 3 })
			if tc.payloads > 0 {
				payload := `{"subscription":"books.x","data":"` + strings.Repeat("x", 128<<10) + `"}`
				for range tc.payloads {
					h.publish("books.x", payload)
				}
				wstest.Eventually(t, 20*time.Second, "every delivery queued", func() bool {
					return counterValue(t, h.r.metrics.Deliveries) == float64(3*tc.payloads)
				})
			}

			const deadline = 500 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			start := time.Now()
			h.r.Shutdown(ctx)
			// The bound is the contract (the deadline) plus slack for a
			// loaded machine; before, this took the library's 5 s
			// close-handshake wait or longer.
			if took := time.Since(start); took > deadline+2*time.Second {
				t.Fatalf("Shutdown with a %s deadline took %s", deadline, took)
			}
			for i, raw := range raws {
				_ = raw.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, err := io.Copy(io.Discard, raw)
				if errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("client %d: socket still open after Shutdown returned", i)
				}
			}
		})
	}
}

// dialNonReader opens a WebSocket that subscribes to books.x and never
// reads; it returns the client's socket, with a small receive buffer so
// that unread deliveries soon block the router's writes.
func (h *harness) dialNonReader() net.Conn {
	h.t.Helper()
	raw := make(chan net.Conn, 1)
	transport := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			_ = c.(*net.TCPConn).SetReadBuffer(4096)
			raw <- c
		}
		return c, err
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.srv.URL, "http"), &websocket.DialOptions{HTTPClient: &http.Client{Transport: transport}})
	if err != nil {
		h.t.Fatalf("dial: %v", err)
	}
	h.t.Cleanup(func() { conn.CloseNow() })
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"event":"subscribe","subscription":"books.x"}`)); err != nil {
		h.t.Fatalf("subscribe: %v", err)
	}
	return <-raw
}

// subscriptions counts the router's sessions subscribed to name.
func (h *harness) subscriptions(name string) int {
	h.r.mu.Lock()
	defer h.r.mu.Unlock()
	n := 0
	for s := range h.r.sessions {
		if s.subscription(name) != nil {
			n++
		}
	}
	return n
}
