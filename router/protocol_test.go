package router

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/services"
)

func open() *services.Service { return &services.Service{RequireAuthentication: new(bool)} }

func TestSmokeSubscribeReceive(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Services["books"] = open()
	h := newHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b1"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b1","status":"ok"}`)
	h.publish("books.b1", `{"subscription":"books.b1","data":{"title":"x"}}`)
	c.Expect(`{"event":"message","subscription":"books.b1","data":{"title":"x"}}`)
	c.Send(`{"event":"unsubscribe","subscription":"books.b1"}`)
	c.Expect(`{"event":"unsubscribe","subscription":"books.b1","status":"ok"}`)
	wstest.Eventually(t, 5*time.Second, "channel unsubscribed", func() bool { return h.numsub("books.b1") == 0 })
}

// TestClientErrors covers SPEC 3's error table and ping, each on one
// connection that must keep working afterwards.
func TestClientErrors(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Services["books"] = open()
	h := newHarness(t, cfg)
	const bad = `{"status":"error","error":"Messages must be JSON and contain an event field."}`
	cases := []exchange{
		{"not json", `hello`, bad},
		{"truncated json", `{"event":"ping"`, bad},
		{"array", `["event","ping"]`, bad},
		{"string", `"ping"`, bad},
		{"null", `null`, bad},
		{"no event", `{"subscription":"books.b1"}`, bad},
		{"event not a string", `{"event":5}`, bad},
		{"event null", `{"event":null}`, bad},
		{"event 41 chars", `{"event":"` + strings.Repeat("e", 41) + `"}`, bad},
		{"event 30 KB", `{"event":"` + strings.Repeat("x", 30000) + `"}`, bad},
		{"unknown event", `{"event":"dance"}`, `{"event":"dance","status":"error","error":"Event not found."}`},
		{"empty event", `{"event":""}`, `{"event":"","status":"error","error":"Event not found."}`},
		{"event key is case-sensitive", `{"Event":"ping"}`, bad},
		{"unknown event 40 chars", `{"event":"` + strings.Repeat("e", 40) + `"}`, `{"event":"` + strings.Repeat("e", 40) + `","status":"error","error":"Event not found."}`},
		{"ping string", `{"event":"ping","data":"abc"}`, `{"event":"pong","data":"abc"}`},
		{"ping long string cut to 128", `{"event":"ping","data":"` + strings.Repeat("é", 200) + `"}`, `{"event":"pong","data":"` + strings.Repeat("é", 128) + `"}`},
		{"ping number", `{"event":"ping","data":5}`, `{"event":"pong","data":null}`},
		{"ping no data", `{"event":"ping"}`, `{"event":"pong","data":null}`},
		{"ping object", `{"event":"ping","data":{"a":1}}`, `{"event":"pong","data":null}`},
	}
	c := h.dial()
	exchanges(t, c, cases)
	c.Send(`{"event":"subscribe","subscription":"books.b1"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b1","status":"ok"}`)
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.WebSocket.EventsPerSecond = 0.001
	cfg.WebSocket.EventsBurst = 2
	h := newHarness(t, cfg)
	c := h.dial()
	for range 2 {
		c.Send(`{"event":"ping","data":"a"}`)
	}
	c.Send(`{"event":"ping","data":"b"}`)
	c.Send(`{"event":"subscribe","subscription":"books.b1"}`)
	c.Expect(`{"event":"pong","data":"a"}`)
	c.Expect(`{"event":"pong","data":"a"}`)
	c.Expect(`{"event":"ping","status":"error","error":"Rate limit exceeded."}`)
	c.Expect(`{"event":"subscribe","status":"error","error":"Rate limit exceeded."}`)
}

// TestEventLabelsBounded: event names a client makes up are counted as
// "unknown", also when rate limited, so they cannot grow the label set.
func TestEventLabelsBounded(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.WebSocket.EventsPerSecond = 0.001
	cfg.WebSocket.EventsBurst = 1
	h := newHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"made-up-1"}`)
	c.Expect(`{"event":"made-up-1","status":"error","error":"Event not found."}`)
	c.Send(`{"event":"made-up-2"}`)
	c.Expect(`{"event":"made-up-2","status":"error","error":"Rate limit exceeded."}`)
	if got := testutil.CollectAndCount(h.r.metrics.Events); got != 1 {
		t.Fatalf("event series = %d, want 1 (unknown/error)", got)
	}
	if got := testutil.ToFloat64(h.r.metrics.Events.WithLabelValues("unknown", "error")); got != 2 {
		t.Fatalf("unknown/error = %v, want 2", got)
	}
}

func TestOversizedFrameCloses1009(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.WebSocket.MaxMessageBytes = 1024
	h := newHarness(t, cfg)
	other := h.dial()
	c := h.dial()
	c.Send(`{"event":"ping","data":"` + strings.Repeat("x", 2000) + `"}`)
	if got := c.Closed(); got != 1009 {
		t.Fatalf("close status = %d, want 1009", got)
	}
	other.Send(`{"event":"ping","data":"still here"}`)
	other.Expect(`{"event":"pong","data":"still here"}`)
}

// TestFramesRightBehindUpgrade sends the upgrade request and a first frame
// in one write, so the server has the frame buffered when it hijacks.
func TestFramesRightBehindUpgrade(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testConfig(t))
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	payload := []byte(`{"event":"ping","data":"early"}`)
	frame := []byte{0x81, 0x80 | byte(len(payload)), 1, 2, 3, 4}
	for i, b := range payload {
		frame = append(frame, b^[]byte{1, 2, 3, 4}[i%4])
	}
	if _, err := conn.Write(append([]byte(req), frame...)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	hdr := make([]byte, 2)
	if _, err := io.ReadFull(br, hdr); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, hdr[1]&0x7f)
	if _, err := io.ReadFull(br, body); err != nil {
		t.Fatal(err)
	}
	if want := `{"event":"pong","data":"early"}`; string(body) != want {
		t.Fatalf("got %s, want %s", body, want)
	}
}
