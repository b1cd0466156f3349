package router

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/services"
)

// stalledConn is a client that does not read until the test says so.
type stalledConn struct {
	*websocket.Conn
	tcp *net.TCPConn
}

// dialStalled connects a client that never reads until the test says so,
// with a small socket receive buffer, so that what the router sends piles
// up on the router's side instead of in the client's kernel.
func dialStalled(t *testing.T, h *harness) *stalledConn {
	t.Helper()
	sc := &stalledConn{}
	dialer := &net.Dialer{}
	transport := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(16 << 10)
			sc.tcp = tc
		}
		return c, err
	}}
	t.Cleanup(transport.CloseIdleConnections)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.srv.URL, "http"), &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: transport},
	})
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(-1)
	t.Cleanup(func() { conn.CloseNow() })
	sc.Conn = conn
	return sc
}

// drainUntilEnd reads conn, with a large receive buffer now, until the
// connection ends and returns the error that ended it.
func drainUntilEnd(t *testing.T, conn *stalledConn) error {
	t.Helper()
	if conn.tcp != nil {
		_ = conn.tcp.SetReadBuffer(4 << 20)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("connection still open after 20s of reading")
			}
			return err
		}
	}
}

// stalledSubscriber sets up a router with one subscriber of books.b that
// stops reading once subscribed (pings off, so nothing else reaches it),
// and publishes n deliveries of size bytes to it.
func stalledSubscriber(t *testing.T, tune func(*services.WebSocket), n, size int) (*harness, *stalledConn) {
	t.Helper()
	cfg := testConfig(t)
	cfg.WebSocket.PingInterval = 0
	tune(&cfg.WebSocket)
	cfg.Services["books"] = open()
	h := newHarness(t, cfg)
	conn := dialStalled(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"event":"subscribe","subscription":"books.b"}`)); err != nil {
		t.Fatal(err)
	}
	wstest.Eventually(t, 5*time.Second, "subscribed", func() bool { return h.numsub("books.b") == 1 && sessionSubs(h.r) == 1 })
	payload := strings.Repeat("x", size)
	for i := range n {
		h.publish("books.b", fmt.Sprintf(`{"subscription":"books.b","data":{"i":%d,"p":"%s"}}`, i, payload))
	}
	return h, conn
}

// TestSlowConsumerByQueuedBytes: a client that stops reading is closed
// once send_queue_bytes are queued, long before send_queue frames are.
func TestSlowConsumerByQueuedBytes(t *testing.T) {
	t.Parallel()
	h, conn := stalledSubscriber(t, func(ws *services.WebSocket) {
		ws.SendQueue = 1 << 20
		ws.SendQueueBytes = 1 << 20
		ws.WriteTimeout = services.Duration(time.Minute)
	}, 80, 256<<10)
	wstest.Eventually(t, 10*time.Second, "slow consumer counted", func() bool {
		return counterValue(t, h.r.metrics.Dropped.WithLabelValues("slow_consumer")) == 1
	})
	err := drainUntilEnd(t, conn)
	var ce websocket.CloseError
	switch {
	case errors.As(err, &ce):
		if ce.Code != websocket.StatusPolicyViolation || ce.Reason != "slow consumer" {
			t.Fatalf("connection closed with %v, want 1008 slow consumer", err)
		}
	default:
		// The close frame waits behind what the socket already holds; a
		// close handshake that ran out of time before this client read it
		// drops the socket instead (seen only on an overloaded machine).
		t.Logf("connection dropped before the close frame came through: %v", err)
	}
	wstest.Eventually(t, 5*time.Second, "session gone", func() bool { return sessionSubs(h.r) == 0 })
}

// TestSlowConsumerByWriteTimeout: a client whose socket takes no write
// within write_timeout is dropped (no close handshake) and counted as a
// slow consumer, with both queue limits far away.
func TestSlowConsumerByWriteTimeout(t *testing.T) {
	t.Parallel()
	h, conn := stalledSubscriber(t, func(ws *services.WebSocket) {
		ws.SendQueue = 1 << 20
		ws.SendQueueBytes = 1 << 40
		ws.WriteTimeout = services.Duration(300 * time.Millisecond)
	}, 80, 256<<10)
	wstest.Eventually(t, 10*time.Second, "slow consumer counted and session gone", func() bool {
		return counterValue(t, h.r.metrics.Dropped.WithLabelValues("slow_consumer")) == 1 && sessionSubs(h.r) == 0
	})
	if err := drainUntilEnd(t, conn); websocket.CloseStatus(err) != -1 {
		t.Fatalf("connection ended with %v, want a dropped socket without a close frame", err)
	}
}
