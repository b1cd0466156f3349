package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsClient is a WebSocket client whose reader runs all the time (so pings
// and close frames are answered) and queues the frames it receives.
type wsClient struct {
	t      testing.TB
	conn   *websocket.Conn
	frames chan []byte
	done   chan struct{}
	err    error // the read error that ended the reader; set before done closes
}

// dial connects to url and starts the reader; the connection is closed
// when the test ends.
func dial(t testing.TB, url string) *wsClient {
	t.Helper()
	return dialWith(t, url, nil)
}

// dialWith is dial with options (headers, HTTP client).
func dialWith(t testing.TB, url string, opts *websocket.DialOptions) *wsClient {
	t.Helper()
	conn, err := dialConn(url, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return newWSClient(t, conn, 256)
}

// dialConn dials without starting a reader; the caller owns the conn.
func dialConn(url string, opts *websocket.DialOptions) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, url, opts)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	return conn, nil
}

// dialStatus tries an upgrade and returns the HTTP status of the answer
// (101 when the upgrade succeeded), or 0 when no HTTP answer came.
func dialStatus(t testing.TB, url string, header http.Header) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
	if err == nil {
		conn.CloseNow()
	}
	if resp == nil {
		return 0
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	return resp.StatusCode
}

func newWSClient(t testing.TB, conn *websocket.Conn, queue int) *wsClient {
	c := &wsClient{t: t, conn: conn, frames: make(chan []byte, queue), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			_, frame, err := conn.Read(context.Background())
			if err != nil {
				c.err = err
				return
			}
			c.frames <- frame
		}
	}()
	return c
}

// send writes v as one JSON text frame.
func (c *wsClient) send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("send %s: %v", b, err)
	}
}

// recv returns the next frame decoded, failing the test after timeout.
func (c *wsClient) recv(timeout time.Duration) map[string]any {
	c.t.Helper()
	select {
	case f := <-c.frames:
		var m map[string]any
		if err := json.Unmarshal(f, &m); err != nil {
			c.t.Fatalf("frame %q is not a JSON object: %v", f, err)
		}
		return m
	case <-c.done:
		select {
		case f := <-c.frames:
			c.frames <- f // keep it; rare: reader ended with frames queued
			return c.recv(timeout)
		default:
		}
		c.t.Fatalf("connection ended while waiting for a frame: %v", c.err)
	case <-time.After(timeout):
		c.t.Fatalf("no frame within %s", timeout)
	}
	return nil
}

// request sends v and returns the next frame, which must be the reply.
func (c *wsClient) request(v map[string]any) map[string]any {
	c.t.Helper()
	c.send(v)
	return c.recv(5 * time.Second)
}

// subscribe subscribes to name (with extra fields) and requires an ok reply.
func (c *wsClient) subscribe(name string, extra map[string]any) map[string]any {
	c.t.Helper()
	ev := map[string]any{"event": "subscribe", "subscription": name}
	for k, v := range extra {
		ev[k] = v
	}
	reply := c.request(ev)
	if reply["event"] != "subscribe" || reply["status"] != "ok" || reply["subscription"] != name {
		c.t.Fatalf("subscribe %s: reply %v", name, reply)
	}
	return reply
}

// expectMessage requires the next frame to be a delivery on sub with data.
func (c *wsClient) expectMessage(sub string, data any) map[string]any {
	c.t.Helper()
	m := c.recv(5 * time.Second)
	if m["event"] != "message" || m["subscription"] != sub || !jsonEq(m["data"], data) {
		c.t.Fatalf("want message on %s with data %v, got %v", sub, data, m)
	}
	return m
}

// waitClosed waits until the server closed the connection and returns the
// close status (-1 when the connection ended without a close frame).
func (c *wsClient) waitClosed(timeout time.Duration) websocket.StatusCode {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case <-c.done:
			return websocket.CloseStatus(c.err)
		case <-c.frames: // frames sent before the close are not the point here
		case <-deadline:
			c.t.Fatalf("connection still open %s later", timeout)
			return 0
		}
	}
}

// jsonEq compares two decoded JSON values.
func jsonEq(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// writeText writes one text frame; safe to call from any goroutine.
func writeText(c *wsClient, b []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.conn.Write(ctx, websocket.MessageText, b)
}
