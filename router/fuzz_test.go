package router

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/wsrouter/wsrouter/control"
	"github.com/wsrouter/wsrouter/embedredis"
	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/services"
)

// FuzzDecodeEvent checks decodeEvent against the rule of SPEC section 3: a
// frame is an event when it is a JSON object whose "event" member is a
// string of at most 40 characters.
func FuzzDecodeEvent(f *testing.F) {
	for _, seed := range eventSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		ev, ok := decodeEvent(frame)
		name, want := referenceEvent(frame)
		if ok != want {
			t.Fatalf("decodeEvent(%q) ok = %v, want %v", frame, ok, want)
		}
		if ok && ev.name != name {
			t.Fatalf("decodeEvent(%q) name = %q, want %q", frame, ev.name, name)
		}
	})
}

// referenceEvent decides what decodeEvent must: whether frame is an event
// and its name. JSON text is UTF-8; encoding/json would take other bytes.
func referenceEvent(frame []byte) (string, bool) {
	var v any
	if !utf8.Valid(frame) || json.Unmarshal(frame, &v) != nil {
		return "", false
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	name, ok := obj["event"].(string)
	if !ok || utf8.RuneCountInString(name) > maxEventName {
		return "", false
	}
	return name, true
}

// eventSeeds are client frames for both fuzz targets of the event path.
// In FuzzSessionFrames, 0x1e separates the frames of one connection.
var eventSeeds = []string{
	``,
	`{}`,
	`null`,
	`[]`,
	`"event"`,
	`{"event":1}`,
	`{"event":null}`,
	`{"event":"ping"}`,
	`{"event":"ping","data":"x"}`,
	`{"event":"ping","data":{"a":1}}`,
	` 	{"event":"ping","data":"` + strings.Repeat("é", 130) + `"}`,
	`{"event":"ping","event":"pong"}`,
	`{"event":"nope"}`,
	`{"event":"` + strings.Repeat("e", 40) + `"}`,
	`{"event":"` + strings.Repeat("e", 41) + `"}`,
	`{"event":"` + strings.Repeat("é", 40) + `"}`,
	`{"event":"p\u0069ng"}`,
	`{"event":"\ud800"}`,
	"{\"event\":\"\xff\"}",
	"{\"event\":\"ping\",\"data\":\"\xc3\x28\"}",
	"{\"event\":\"subscribe\",\"subscription\":\"open.\xed\xa0\x80\"}",
	"{\"event\":\"subscribe\",\"subscription\":\"open.u\",\"room\":\"\xfe\"}",
	"{\"event\":\"subscribe\",\"subscription\":[\"\xe2\x82\"]}",
	"{\"event\":\"message\",\"subscription\":\"open.a\",\"data\":\"\xf8\x88\x80\x80\x80\"}",
	"{\"event\":\"nope\xff\"}",
	`{"event":"auth"}`,
	`{"event":"auth","method":"","ticket":"ok"}`,
	`{"event":"auth","method":null,"ticket":"ok"}`,
	`{"event":"auth","method":7,"ticket":"ok"}`,
	`{"event":"auth","ticket":""}`,
	`{"event":"auth","ticket":["ok"]}`,
	`{"event":"auth","ticket":"403"}`,
	`{"event":"auth","ticket":"bad"}`,
	`{"event":"subscribe"}`,
	`{"event":"subscribe","subscription":"books"}`,
	`{"event":"subscribe","subscription":".x"}`,
	`{"event":"subscribe","subscription":"x."}`,
	`{"event":"subscribe","subscription":{"a":1}}`,
	`{"event":"subscribe","subscription":"nosuch.x"}`,
	`{"event":"subscribe","subscription":"books.1"}`,
	`{"event":"subscribe","subscription":"open.a","room":"r1","other":2}`,
	`{"event":"message","subscription":"open.a","data":1}`,
	`{"event":"unsubscribe","subscription":"open.a"}`,
	"{\"event\":\"subscribe\",\"subscription\":\"open.a\"}\x1e{\"event\":\"subscribe\",\"subscription\":\"open.a\"}\x1e{\"event\":\"message\",\"subscription\":\"open.a\"}\x1e{\"event\":\"unsubscribe\",\"subscription\":\"open.a\"}\x1e{\"event\":\"unsubscribe\",\"subscription\":\"open.a\"}",
	"{\"event\":\"auth\",\"ticket\":\"ok\"}\x1e{\"event\":\"subscribe\",\"subscription\":\"books.1\",\"organization_id\":3}\x1e{\"event\":\"message\",\"subscription\":\"books.1\",\"data\":{\"x\":[1]}}\x1e{\"event\":\"message\",\"subscription\":\"books.1\",\"data\":\"fail\"}\x1e{\"event\":\"message\",\"subscription\":\"books.1\"}\x1e{\"event\":\"unsubscribe\",\"subscription\":\"books.1\"}",
	"{\"event\":\"auth\",\"ticket\":\"ok\"}\x1e{\"event\":\"subscribe\",\"subscription\":\"books.1\",\"organization_id\":\"deny\"}",
	"{\"event\":\"auth\",\"ticket\":\"ok/../../x?y=1\"}\x1e{\"event\":\"subscribe\",\"subscription\":\"books.../../admin?x=1#f\",\"organization_id\":\"/%2e%2e/\"}\x1e{\"event\":\"message\",\"subscription\":\"books.../../admin?x=1#f\",\"data\":\"http://evil/\"}\x1e{\"event\":\"unsubscribe\",\"subscription\":\"books.../../admin?x=1#f\"}",
	"{\"event\":\"subscribe\",\"subscription\":\"open.1\"}\x1e{\"event\":\"subscribe\",\"subscription\":\"open.2\"}\x1e{\"event\":\"subscribe\",\"subscription\":\"open.3\"}\x1e{\"event\":\"subscribe\",\"subscription\":\"open.4\"}",
	`{"event":"ping","data":"` + strings.Repeat("x", fuzzMaxFrame) + `"}`,
}

// Frames of one FuzzSessionFrames input are separated by this byte, which
// no valid JSON text contains outside a string.
const frameSeparator = 0x1e

const (
	fuzzMaxFrame  = 4096 // websocket.max_message_bytes of the fuzzed router
	fuzzMaxFrames = 8    // frames per connection; the rest of an input is ignored
)

// fuzzRouter is a real router with real Redis and a fake service, built
// once per fuzzing process.
type fuzzRouter struct {
	url  string
	run  string // random per process, so no input can forge a marker
	mark atomic.Int64
}

func newFuzzRouter(f *testing.F) *fuzzRouter {
	redisURL := fuzzRedisURL(f)
	svc := httptest.NewServer(http.HandlerFunc(fuzzServiceHandler))
	f.Cleanup(svc.Close)

	cfg := services.Default()
	cfg.Redis.URL = redisURL
	cfg.Redis.ChannelPrefix = "fuzz:"
	cfg.Redis.PingInterval = services.Duration(time.Second)
	cfg.Redis.PingTimeout = services.Duration(2 * time.Second)
	cfg.Metrics.Listen = ""
	cfg.HTTP.Timeout = services.Duration(2 * time.Second)
	cfg.HTTP.Tries = 1
	cfg.HTTP.CloseCallbacksPerSecond = 1e6
	cfg.WebSocket.EventsPerSecond = 1e9
	cfg.WebSocket.EventsBurst = 1e9
	cfg.WebSocket.MaxMessageBytes = fuzzMaxFrame
	cfg.WebSocket.MaxSubscriptions = 3
	cfg.ShutdownTimeout = services.Duration(5 * time.Second)
	cfg.Authentication = &services.Authentication{Ticket: &services.Ticket{
		ValidationURL: svc.URL + "/ticket",
		AuthFields:    []string{"user_id"},
	}}
	no := false
	cfg.Services = map[string]*services.Service{
		"open": {RequireAuthentication: &no, ExtraFields: []string{"room"}, FilterFields: []string{"room"}},
		"books": {
			Authorizer:        svc.URL + "/authorize",
			AuthorizerFields:  []string{"can_edit"},
			ExtraFields:       []string{"organization_id"},
			FilterFields:      []string{"user_id"},
			BeforeSubscribe:   svc.URL + "/before_subscribe",
			OnSubscribe:       svc.URL + "/ok",
			OnMessage:         svc.URL + "/on_message",
			BeforeUnsubscribe: svc.URL + "/ok",
			OnUnsubscribe:     svc.URL + "/ok",
		},
	}
	if err := cfg.Validate(); err != nil {
		f.Fatal(err)
	}
	r, err := New(cfg, Options{Logger: testLogger()})
	if err != nil {
		f.Fatal(err)
	}
	srv := serve(f, r)
	wstest.Eventually(f, 10*time.Second, "router ready", func() bool { return r.Ready() == nil })
	return &fuzzRouter{url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws", run: newSessionID()}
}

// fuzzRedisURL returns a Redis for the fuzzed router: a real redis-server
// when the seeds run as tests, and the embedded server while fuzzing, whose
// worker processes are ended without running cleanups and would leave a
// redis-server behind.
func fuzzRedisURL(f *testing.F) string {
	if fl := flag.Lookup("test.fuzz"); fl == nil || fl.Value.String() == "" {
		return testredis.Start(f).URL()
	}
	e, err := embedredis.Start("127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(e.Close)
	return e.URL()
}

// fuzzCallbackPaths are the paths of the fuzzed router's callback URLs.
var fuzzCallbackPaths = map[string]bool{"/ticket": true, "/authorize": true, "/before_subscribe": true, "/on_message": true, "/ok": true}

// fuzzStrayCallback records the first callback request that is not exactly
// a configured URL, as a POST of JSON: client input must never reach a
// callback's URL or method.
var fuzzStrayCallback atomic.Pointer[string]

// fuzzServiceHandler answers the fuzzed router's callbacks, with error
// answers chosen by the request so the fuzzer can reach them.
func fuzzServiceHandler(w http.ResponseWriter, r *http.Request) {
	if !fuzzCallbackPaths[r.URL.Path] || r.URL.RawQuery != "" || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		stray := fmt.Sprintf("%s %s (Content-Type %q)", r.Method, r.URL.RequestURI(), r.Header.Get("Content-Type"))
		fuzzStrayCallback.CompareAndSwap(nil, &stray)
	}
	raw, _ := io.ReadAll(r.Body)
	var body map[string]json.RawMessage
	_ = json.Unmarshal(raw, &body)
	w.Header().Set("Content-Type", "application/json")
	answer := `{"status":"ok"}`
	switch r.URL.Path {
	case "/ticket":
		var ticket string
		_ = json.Unmarshal(body["ticket"], &ticket)
		switch {
		case strings.HasPrefix(ticket, "ok"):
			answer = `{"status":"ok","user_id":7,"data":{"hello":true}}`
		case strings.HasPrefix(ticket, "403"):
			w.WriteHeader(http.StatusForbidden)
			answer = `{"error":"Forbidden ticket."}`
		default:
			answer = `{"status":"error"}`
		}
	case "/authorize":
		if string(body["organization_id"]) == `"deny"` {
			answer = `{"status":"error"}`
		} else {
			answer = `{"status":"ok","can_edit":true}`
		}
	case "/before_subscribe":
		answer = `{"status":"ok","data":{"welcome":1},"options":{"order":5}}`
	case "/on_message":
		switch data := body["data"]; string(data) {
		case "null", "":
		case `"fail"`:
			answer = `{"status":"error","error":"No."}`
		default:
			answer = `{"status":"ok","data":` + string(data) + `}`
		}
	}
	_, _ = io.WriteString(w, answer)
}

// FuzzSessionFrames sends each input over a real WebSocket as up to eight
// frames (split at 0x1e), each followed by a marker ping, and checks every
// reply against SPEC section 3: one JSON object per frame (none for an
// accepted message event) with the frame's event and a status, or a pong;
// a frame over max_message_bytes closes with 1009; and the marker ping
// after the last frame is still answered.
func FuzzSessionFrames(f *testing.F) {
	for _, seed := range eventSeeds {
		f.Add([]byte(seed))
	}
	fr := newFuzzRouter(f)
	f.Fuzz(func(t *testing.T, input []byte) {
		frames := bytes.SplitN(input, []byte{frameSeparator}, fuzzMaxFrames+1)
		frames = frames[:min(len(frames), fuzzMaxFrames)]
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, _, err := websocket.Dial(ctx, fr.url, nil)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer conn.CloseNow()
		conn.SetReadLimit(1 << 20)
		defer func() {
			if stray := fuzzStrayCallback.Load(); stray != nil {
				t.Fatalf("callback request to a URL not in the configuration: %s", *stray)
			}
		}()
		for i, frame := range frames {
			if len(frame) > fuzzMaxFrame {
				expectTooBig(ctx, t, conn, frame)
				return
			}
			mark := fmt.Sprintf("mark-%s-%d", fr.run, fr.mark.Add(1))
			write(ctx, t, conn, frame)
			write(ctx, t, conn, []byte(`{"event":"ping","data":"`+mark+`"}`))
			replies := readUntilPong(ctx, t, conn, mark)
			if err := checkReplies(frame, replies); err != nil {
				t.Fatalf("frame %d %q: %v; replies: %q", i, frame, err, replies)
			}
		}
	})
}

func write(ctx context.Context, t *testing.T, conn *websocket.Conn, frame []byte) {
	t.Helper()
	if err := conn.Write(ctx, websocket.MessageText, frame); err != nil {
		t.Fatalf("write %q: %v", frame, err)
	}
}

// expectTooBig sends an over-size frame and expects the close code 1009.
func expectTooBig(ctx context.Context, t *testing.T, conn *websocket.Conn, frame []byte) {
	t.Helper()
	// The router may close while the frame is still being written; the
	// close code then comes with the read.
	_ = conn.Write(ctx, websocket.MessageText, frame)
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			if got := websocket.CloseStatus(err); got != websocket.StatusMessageTooBig {
				t.Fatalf("frame of %d bytes over max_message_bytes %d: connection ended with %v (status %d), want 1009", len(frame), fuzzMaxFrame, err, got)
			}
			return
		}
		t.Fatalf("frame of %d bytes over max_message_bytes got a reply: %q", len(frame), b)
	}
}

// readUntilPong returns the frames received before the pong carrying mark.
func readUntilPong(ctx context.Context, t *testing.T, conn *websocket.Conn, mark string) [][]byte {
	t.Helper()
	want := `{"event":"pong","data":"` + mark + `"}`
	var got [][]byte
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("no pong for %s: %v; frames before: %q", mark, err, got)
		}
		if string(b) == want {
			return got
		}
		got = append(got, b)
		if len(got) > 2 {
			t.Fatalf("more than two frames before the pong for %s: %q", mark, got)
		}
	}
}

// checkReplies checks the replies one frame got.
func checkReplies(frame []byte, replies [][]byte) error {
	name, isEvent := referenceEvent(frame)
	if len(replies) > 1 {
		return fmt.Errorf("%d replies, want at most one", len(replies))
	}
	if len(replies) == 0 {
		if isEvent && name == "message" {
			return nil // accepted silently
		}
		return fmt.Errorf("no reply")
	}
	b := replies[0]
	if !utf8.Valid(b) {
		return fmt.Errorf("reply is not UTF-8")
	}
	var reply map[string]any
	if err := json.Unmarshal(b, &reply); err != nil {
		return fmt.Errorf("reply is not a JSON object: %v", err)
	}
	switch {
	case !isEvent:
		if string(b) != `{"status":"error","error":"`+errBadFrame+`"}` {
			return fmt.Errorf("not an event; want the %q error", errBadFrame)
		}
		return nil
	case name == "ping":
		if len(reply) != 2 || reply["event"] != "pong" {
			return fmt.Errorf("want a pong")
		}
		if s, ok := reply["data"].(string); ok && utf8.RuneCountInString(s) > maxPingData {
			return fmt.Errorf("pong data longer than %d characters", maxPingData)
		} else if !ok && reply["data"] != nil {
			return fmt.Errorf("pong data is neither a string nor null")
		}
		return nil
	case name != "auth" && name != "subscribe" && name != "unsubscribe" && name != "message":
		want := map[string]any{"event": name, "status": "error", "error": errEventNotFound}
		if !control.JSONEqual(b, mustJSON(want)) {
			return fmt.Errorf("unknown event; want %s", mustJSON(want))
		}
		return nil
	}
	if reply["event"] != name {
		return fmt.Errorf("reply event %v, want %q", reply["event"], name)
	}
	switch reply["status"] {
	case "ok":
		if _, has := reply["error"]; has {
			return fmt.Errorf("ok reply with an error")
		}
	case "error":
		if msg, _ := reply["error"].(string); msg == "" {
			return fmt.Errorf("error reply without error text")
		}
	default:
		return fmt.Errorf("status %v, want ok or error", reply["status"])
	}
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
