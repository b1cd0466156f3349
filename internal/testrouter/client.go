package testrouter

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/coder/websocket"
)

// Client is a raw protocol client over a real WebSocket, as a page's
// script would be; it fails the test on any transport error.
type Client struct {
	t    testing.TB
	ctx  context.Context
	conn *websocket.Conn
}

// Dial connects to url with the given Origin (empty: none); the connection
// closes when the test ends.
func Dial(ctx context.Context, t testing.TB, url, origin string) *Client {
	t.Helper()
	opts := &websocket.DialOptions{}
	if origin != "" {
		opts.HTTPHeader = http.Header{"Origin": {origin}}
	}
	conn, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("testrouter: dial %s: %v", url, err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return &Client{t: t, ctx: ctx, conn: conn}
}

// Send writes v as one JSON frame.
func (c *Client) Send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.conn.Write(c.ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("testrouter: write: %v", err)
	}
}

// Read reads one frame, a JSON object.
func (c *Client) Read() map[string]any {
	c.t.Helper()
	_, b, err := c.conn.Read(c.ctx)
	if err != nil {
		c.t.Fatalf("testrouter: read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("testrouter: frame %s: %v", b, err)
	}
	return m
}

// Expect reads one frame and compares it, as canonical JSON, with want.
func (c *Client) Expect(want string) map[string]any {
	c.t.Helper()
	got := c.Read()
	var w map[string]any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		c.t.Fatal(err)
	}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(w)
	if string(gj) != string(wj) {
		c.t.Fatalf("frame\n got %s\nwant %s", gj, wj)
	}
	return got
}
