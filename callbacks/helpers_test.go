package callbacks

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// reply is one scripted answer of a test server.
type reply struct {
	status int               // 0 means 200
	body   string            // written as is
	header map[string]string // extra response headers
	hang   bool              // block until the client gives up on the request
	stall  bool              // send the headers and the start of the body, then block
	delay  time.Duration     // sleep before answering
}

// script is a test handler that answers with its replies in turn, repeating
// the last, and records what it received.
type script struct {
	replies []reply

	mu     sync.Mutex
	times  []time.Time
	bodies []string
	ctypes []string
}

// ServeHTTP implements http.Handler.
func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	i := len(s.times)
	s.times = append(s.times, time.Now())
	s.bodies = append(s.bodies, r.Method+" "+string(body))
	s.ctypes = append(s.ctypes, r.Header.Get("Content-Type"))
	s.mu.Unlock()

	rep := s.replies[min(i, len(s.replies)-1)]
	if rep.hang {
		<-r.Context().Done()
		return
	}
	if rep.delay > 0 {
		time.Sleep(rep.delay)
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	status := rep.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	if rep.stall {
		_, _ = io.WriteString(w, `{"status":`)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return
	}
	_, _ = io.WriteString(w, rep.body)
}

// requests returns how many requests the server has received.
func (s *script) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.times)
}

// arrivals returns when each request arrived.
func (s *script) arrivals() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.times...)
}

// serve starts a test server for h, closed when the test ends.
func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// testOptions are quick options for tests: short waits, no log output.
func testOptions() Options {
	return Options{
		Timeout: 2 * time.Second,
		Tries:   3,
		Wait:    time.Millisecond,
		Logger:  slog.New(slog.DiscardHandler),
	}
}

// newClient returns a Client for o whose idle connections close when the
// test ends.
func newClient(t *testing.T, o Options) *Client {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}
