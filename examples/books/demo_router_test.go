package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/internal/testredis"
)

// demo is the example app and a router in front of it, on a test Redis.
type demo struct {
	appURL string // http://127.0.0.1:PORT
	wsURL  string // ws://127.0.0.1:PORT/
}

func startDemo(t *testing.T) demo {
	t.Helper()
	rds := testredis.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rds.Addr})
	t.Cleanup(func() { rdb.Close() })
	listen := freeAddr(t)
	wsURL := "ws://" + listen + "/"
	app := httptest.NewServer(newApp(appConfig{WSURL: wsURL, Publisher: redisPublisher{rdb: rdb}}).Handler())
	t.Cleanup(app.Close)
	startRouter(t, listen, app.URL, rds.URL())
	return demo{appURL: app.URL, wsURL: wsURL}
}

// wsClient is a raw protocol client, as the page's script would be.
type wsClient struct {
	t    *testing.T
	ctx  context.Context
	conn *websocket.Conn
}

func dialDemo(ctx context.Context, t *testing.T, d demo, user string) *wsClient {
	t.Helper()
	res, err := http.Post(d.appURL+"/ticket", "application/json", strings.NewReader(`{"user":"`+user+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var tk struct{ Ticket string }
	err = json.NewDecoder(res.Body).Decode(&tk)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	conn, _, err := websocket.Dial(ctx, d.wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {d.appURL}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	c := &wsClient{t: t, ctx: ctx, conn: conn}
	c.send(map[string]any{"event": "auth", "ticket": tk.Ticket})
	c.expect(`{"event":"auth","status":"ok"}`)
	return c
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	if err := c.conn.Write(c.ctx, websocket.MessageText, b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) read() map[string]any {
	c.t.Helper()
	_, b, err := c.conn.Read(c.ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("frame %s: %v", b, err)
	}
	return m
}

// expect reads one frame and compares it, as canonical JSON, with want.
func (c *wsClient) expect(want string) map[string]any {
	c.t.Helper()
	got := c.read()
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

// TestDemoThroughRouter runs the browser demo's protocol steps with plain
// WebSocket clients through a real router: two readers of one book, an
// edit by one reaching both, a guest refused.
func TestDemoThroughRouter(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	alice := dialDemo(ctx, t, d, "alice")
	bob := dialDemo(ctx, t, d, "bob")
	guest := dialDemo(ctx, t, d, "guest")
	state := `{"event":"subscribe","status":"ok","subscription":"books.book_1","data":{"book":{"id":"book_1","title":"The Left Hand of Darkness","author":"Ursula K. Le Guin","notes":"Winter on Gethen.","version":0}}}`
	for _, c := range []*wsClient{alice, bob, guest} {
		c.send(map[string]any{"event": "subscribe", "subscription": "books.book_1"})
		c.expect(state)
	}
	alice.send(map[string]any{"event": "subscribe", "subscription": "books.nope"})
	alice.expect(`{"event":"subscribe","status":"error","subscription":"books.nope","error":"No such book."}`)

	alice.send(map[string]any{"event": "message", "subscription": "books.book_1", "data": map[string]any{"title": "Winter"}})
	edited := `{"event":"message","subscription":"books.book_1","data":{"book":{"id":"book_1","title":"Winter","author":"Ursula K. Le Guin","notes":"Winter on Gethen.","version":1,"edited_by":"alice"}}}`
	for _, c := range []*wsClient{alice, bob, guest} {
		c.expect(edited)
	}

	guest.send(map[string]any{"event": "message", "subscription": "books.book_1", "data": map[string]any{"title": "Mine"}})
	guest.expect(`{"event":"message","status":"error","subscription":"books.book_1","error":"Guests can read but not edit."}`)

	bob.send(map[string]any{"event": "unsubscribe", "subscription": "books.book_1"})
	bob.expect(`{"event":"unsubscribe","status":"ok","subscription":"books.book_1"}`)
}
