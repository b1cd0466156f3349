package wstest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestClientSendAndRead(t *testing.T) {
	t.Parallel()
	url, _ := echoServer(t)
	c := Dial(t, url)
	tests := []struct {
		name string
		send any
		want string
	}{
		{"value as JSON", map[string]any{"event": "auth", "n": 1}, `{"n":1,"event":"auth"}`},
		{"string as it is", `{"event":"ping"}`, `{"event":"ping"}`},
		{"bytes as they are", []byte(`{"a":[1,2]}`), `{"a":[1.0,2]}`},
	}
	for _, tt := range tests { // one connection: in order, not in parallel
		t.Run(tt.name, func(t *testing.T) {
			c.Send(tt.send)
			got := c.Expect(tt.want)
			if !SameJSON(got, raw(tt.want)) {
				t.Errorf("Expect returned %v, want %s", got, tt.want)
			}
		})
	}
	if got := c.Request(map[string]any{"event": "x"}); got["event"] != "x" {
		t.Errorf("Request = %v", got)
	}
	c.Send(`{"event":"message","subscription":"a.b","data":{"k":1},"offset":"7"}`)
	if got := c.ExpectMessage("a.b", map[string]any{"k": 1}); got["offset"] != "7" {
		t.Errorf("ExpectMessage = %v, want the whole frame", got)
	}
	c.Send(`{"n":1}`)
	c.Send(`{"n":2}`)
	c.ExpectAnyOrder(`{"n":2}`, `{"n":1.0}`)
	c.Send(`[1]`)
	if got := string(c.Next()); got != `[1]` {
		t.Errorf("Next = %s", got)
	}
	c.Quiet(50 * time.Millisecond)
}

func TestClientSubscribe(t *testing.T) {
	t.Parallel()
	url, _ := echoServer(t)
	c := Dial(t, url)
	if got := c.Subscribe("ok.a", map[string]any{"k": 1}); got["k"] != 1.0 || got["status"] != "ok" {
		t.Errorf("Subscribe = %v, want the reply with the extra members", got)
	}
	r := &recorder{TB: t}
	if msg := r.failure(func() { c.For(r).Subscribe("no.a", nil) }); !strings.Contains(msg, "subscribe no.a") {
		t.Errorf("Subscribe without an ok reply failed with %q", msg)
	}
}

func TestClientFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		frame string
		check func(c *Client)
		want  string
	}{
		{"Expect mismatch", `{"a":1}`, func(c *Client) { c.Expect(`{"a":"1"}`) }, "frame mismatch"},
		{"ExpectFields mismatch", `{"a":1,"b":2}`, func(c *Client) { c.ExpectFields(map[string]any{"b": 3}) }, `mismatch in "b"`},
		{"ExpectFields absent", `{"a":1}`, func(c *Client) { c.ExpectFields(map[string]any{"b": nil}) }, `mismatch in "b"`},
		{"ExpectAnyOrder with a frame not wanted", `{"a":1}`, func(c *Client) { c.ExpectAnyOrder(`{"a":2}`) }, "unexpected frame"},
		{"Read of a non-object", `[1]`, func(c *Client) { c.Read() }, "not a JSON object"},
		{"Quiet with a frame", `{}`, func(c *Client) { c.Quiet(5 * time.Second) }, "unexpected frame"},
		{"Next with nothing", "", func(c *Client) { c.NextWithin(20 * time.Millisecond) }, "no frame within"},
		{"Closed while open", "", func(c *Client) { c.ClosedWithin(20 * time.Millisecond) }, "still open"},
		{"Next after the end", "close 4000", func(c *Client) { c.Next() }, "connection ended"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url, _ := echoServer(t)
			r := &recorder{TB: t}
			c := Dial(r, url)
			if tt.frame != "" {
				c.Send(tt.frame)
			}
			if msg := r.failure(func() { tt.check(c) }); !strings.Contains(msg, tt.want) {
				t.Errorf("failed with %q, want it to say %q", msg, tt.want)
			}
		})
	}
}

func TestClientClosed(t *testing.T) {
	t.Parallel()
	url, _ := echoServer(t)
	c := Dial(t, url)
	c.Send(`{"before":"close"}`)
	c.Send("close 4001")
	if code := c.Closed(); code != 4001 {
		t.Fatalf("Closed = %d, want 4001", code)
	}
	c.Expect(`{"before":"close"}`) // queued frames stay readable
	at, err := c.Ended()
	if at.IsZero() || websocket.CloseStatus(err) != 4001 {
		t.Errorf("Ended = %v, %v", at, err)
	}
	if err := c.WriteText([]byte(`{}`)); err == nil {
		t.Error("WriteText on a closed connection succeeded")
	}
}

func TestClientCloseAndOptions(t *testing.T) {
	t.Parallel()
	url, origins := echoServer(t)
	c := DialWith(t, url, Options{
		Dial:    &websocket.DialOptions{HTTPHeader: http.Header{"X-Other": {"kept"}}},
		Origin:  "http://app.test",
		Queue:   1,
		Timeout: time.Second,
	})
	c.Send(`{"n":1}`)
	c.Send(`{"n":2}`) // waits in the reader: the queue holds one
	c.Expect(`{"n":1}`)
	c.Expect(`{"n":2}`)
	c.Close()
	select {
	case <-c.Done():
	default:
		t.Error("Close returned before the reader ended")
	}
	if got := origins(); len(got) != 1 || got[0] != "http://app.test|kept" {
		t.Errorf("origins = %q", got)
	}
}

func TestDialConnAndStatus(t *testing.T) {
	t.Parallel()
	url, _ := echoServer(t)
	conn, err := DialConn(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.CloseNow()
	if _, err := DialConn(t.Context(), "ws://127.0.0.1:1/", nil); err == nil || !strings.HasPrefix(err.Error(), "wstest: dial") {
		t.Errorf("DialConn to a closed port: %v", err)
	}
	http404 := "http" + strings.TrimPrefix(NewService(t).URL("/"), "http")
	tests := []struct {
		name string
		url  string
		want int
	}{
		{"upgraded", url, http.StatusSwitchingProtocols},
		{"not a WebSocket endpoint", "ws" + strings.TrimPrefix(http404, "http"), http.StatusOK},
		{"nobody listening", "ws://127.0.0.1:1/", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := DialStatus(tt.url, nil); got != tt.want {
				t.Errorf("DialStatus = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestClientCloseWithAFullQueue(t *testing.T) {
	t.Parallel()
	url, _ := echoServer(t)
	for _, close := range []struct {
		name string
		f    func(*Client)
	}{{"CloseNow", (*Client).CloseNow}, {"Close", (*Client).Close}} {
		t.Run(close.name, func(t *testing.T) {
			t.Parallel()
			c := DialWith(t, url, Options{Queue: 1})
			for range 3 { // one queued, one held by the reader, one in flight
				c.Send(`{}`)
			}
			deadline := time.Now().Add(10 * time.Second)
			for len(c.Frames()) < 1 {
				if time.Now().After(deadline) {
					t.Fatal("no frame queued within 10s")
				}
				time.Sleep(time.Millisecond)
			}
			close.f(c)
			select {
			case <-c.Done():
			default:
				t.Fatal("returned before the reader ended")
			}
		})
	}
}
