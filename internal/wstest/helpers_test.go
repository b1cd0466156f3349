package wstest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
)

// echoServer is a WebSocket server that sends every text frame back, with
// "status":"ok" added to a subscribe event to a name starting "ok.", and
// closes the connection with code N on the frame "close N"; it records the
// Origin and X-Other headers of each upgrade, as "ORIGIN|OTHER".
func echoServer(t *testing.T) (url string, origins func() []string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Origin")+"|"+r.Header.Get("X-Other"))
		mu.Unlock()
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			return
		}
		defer conn.CloseNow()
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			var code int
			if _, err := fmt.Sscanf(string(b), "close %d", &code); err == nil {
				conn.Close(websocket.StatusCode(code), "asked")
				return
			}
			var ev map[string]any
			if json.Unmarshal(b, &ev) == nil && ev["event"] == "subscribe" && strings.HasPrefix(fmt.Sprint(ev["subscription"]), "ok.") {
				ev["status"] = "ok"
				b, _ = json.Marshal(ev)
			}
			if err := conn.Write(context.Background(), websocket.MessageText, b); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// recorder is a testing.TB whose Fatal and Fatalf record the message and
// end the goroutine, so a test can see a helper fail.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.failed = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

// failure runs f with r on a goroutine of its own and returns what it
// failed with ("" when it did not).
func (r *recorder) failure(f func()) string {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}
