package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/history"
	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/testrouter"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// demo is the example app and a router in front of it, on a test Redis.
type demo struct {
	appURL string        // http://127.0.0.1:PORT
	wsURL  string        // ws://127.0.0.1:PORT/
	rdb    *redis.Client // the Redis the app and the router use
	listen string        // the router's address, host:port
	redis  string        // the Redis URL, for a router started again
	router *testrouter.Router
}

func startDemo(t *testing.T) demo {
	t.Helper()
	rds := testredis.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rds.Addr})
	t.Cleanup(func() { rdb.Close() })
	listen := testrouter.FreeAddr(t)
	wsURL := "ws://" + listen + "/"
	app := httptest.NewServer(newApp(appConfig{WSURL: wsURL, Publisher: newHistoryPublisher(rdb, "")}).Handler())
	t.Cleanup(app.Close)
	r := startRouter(t, listen, app.URL, rds.URL())
	return demo{appURL: app.URL, wsURL: wsURL, rdb: rdb, listen: listen, redis: rds.URL(), router: r}
}

// dialDemo connects to the demo's router as user, with a ticket from the
// app, as the page's script does.
func dialDemo(t *testing.T, d demo, user string) *wstest.Client {
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
	c := wstest.DialWith(t, d.wsURL, wstest.Options{Origin: d.appURL})
	c.Send(map[string]any{"event": "auth", "ticket": tk.Ticket})
	c.Expect(`{"event":"auth","status":"ok"}`)
	return c
}

// expectOffset reads one frame of a history service: it must carry an
// offset, and without it equal want (canonical JSON). It returns the offset.
func expectOffset(t *testing.T, c *wstest.Client, want string) history.Offset {
	t.Helper()
	got := c.Read()
	raw, _ := got["offset"].(string)
	off, ok := history.ParseOffset(raw)
	if !ok {
		t.Fatalf("frame has no offset: %v", got)
	}
	delete(got, "offset")
	if !wstest.SameJSON(got, json.RawMessage(want)) {
		gj, _ := json.Marshal(got)
		t.Fatalf("frame (offset %s)\n got %s\nwant %s", raw, gj, want)
	}
	return off
}

// TestDemoThroughRouter runs the browser demo's protocol steps with plain
// WebSocket clients through a real router: readers of one book told of
// each other's arrival and departure, an edit by one reaching all, a guest
// refused. The book's history gives the subscribe replies and the edit
// offsets.
func TestDemoThroughRouter(t *testing.T) {
	t.Parallel()
	d := startDemo(t)

	alice := dialDemo(t, d, "alice")
	bob := dialDemo(t, d, "bob")
	guest := dialDemo(t, d, "guest")
	state := `{"event":"subscribe","status":"ok","subscription":"books.book_1","data":{"book":{"id":"book_1","title":"The Left Hand of Darkness","author":"Ursula K. Le Guin","notes":"Winter on Gethen.","version":0}}}`
	// Each reader's arrival is a join for those already reading.
	var readers []*wstest.Client
	for i, c := range []*wstest.Client{alice, bob, guest} {
		c.Send(map[string]any{"event": "subscribe", "subscription": "books.book_1"})
		if off := expectOffset(t, c, state); off.Seq != 0 {
			t.Fatalf("subscribe before any edit: offset %s, want sequence 0", off)
		}
		for _, r := range readers {
			r.Expect(`{"event":"join","subscription":"books.book_1","member":{"user_id":"` + []string{"alice", "bob", "guest"}[i] + `"}}`)
		}
		readers = append(readers, c)
	}
	alice.Send(map[string]any{"event": "subscribe", "subscription": "books.nope"})
	alice.Expect(`{"event":"subscribe","status":"error","subscription":"books.nope","error":"No such book."}`)

	alice.Send(map[string]any{"event": "message", "subscription": "books.book_1", "data": map[string]any{"title": "Winter"}})
	edited := `{"event":"message","subscription":"books.book_1","data":{"book":{"id":"book_1","title":"Winter","author":"Ursula K. Le Guin","notes":"Winter on Gethen.","version":1,"edited_by":"alice"}}}`
	for _, c := range []*wstest.Client{alice, bob, guest} {
		if off := expectOffset(t, c, edited); off.Seq != 1 {
			t.Fatalf("first edit: offset %s, want sequence 1", off)
		}
	}

	guest.Send(map[string]any{"event": "message", "subscription": "books.book_1", "data": map[string]any{"title": "Mine"}})
	guest.Expect(`{"event":"message","status":"error","subscription":"books.book_1","error":"Guests can read but not edit."}`)

	bob.Send(map[string]any{"event": "unsubscribe", "subscription": "books.book_1"})
	bob.Expect(`{"event":"unsubscribe","status":"ok","subscription":"books.book_1"}`)
	for _, c := range []*wstest.Client{alice, guest} {
		c.Expect(`{"event":"leave","subscription":"books.book_1","member":{"user_id":"bob"}}`)
	}
}
