package wstest

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Call is one request a Service received.
type Call struct {
	Path string         // the URL path
	Body map[string]any // the body decoded; nil when it is not a JSON object
	Raw  string         // the body as sent
}

// AnswerFunc decides the answer to a callback from its decoded body: the
// HTTP status, and the body, written as it is when it is a string or a
// []byte and as JSON otherwise.
type AnswerFunc func(body map[string]any) (status int, answer any)

// Service is a fake callback service: an httptest server that records
// every request and answers 200 {"status":"ok"} unless the test scripted
// the path otherwise (On, Answer, Hang, Block). It is safe for concurrent
// use, and closes when the test ends.
type Service struct {
	t       testing.TB
	srv     *httptest.Server
	release chan struct{} // closed when the test ends: held requests return
	open    atomic.Int64  // client connections open now

	mu      sync.Mutex
	calls   []Call
	answers map[string]AnswerFunc
	holds   map[string]chan struct{} // requests wait until it closes
	headers map[string]string        // set on every answer
	changed chan struct{}            // closed and replaced at every call
}

// NewService starts a Service.
func NewService(t testing.TB) *Service {
	s := &Service{
		t:       t,
		release: make(chan struct{}),
		answers: map[string]AnswerFunc{},
		holds:   map[string]chan struct{}{},
		headers: map[string]string{},
		changed: make(chan struct{}),
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		switch state {
		case http.StateNew:
			s.open.Add(1)
		case http.StateClosed, http.StateHijacked:
			s.open.Add(-1)
		}
	}
	s.srv.Start()
	t.Cleanup(func() {
		close(s.release)
		s.srv.Close()
	})
	return s
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	s.mu.Lock()
	s.calls = append(s.calls, Call{Path: r.URL.Path, Body: body, Raw: string(raw)})
	close(s.changed)
	s.changed = make(chan struct{})
	answer, hold := s.answers[r.URL.Path], s.holds[r.URL.Path]
	for k, v := range s.headers {
		w.Header().Set(k, v)
	}
	s.mu.Unlock()
	if hold != nil {
		select {
		case <-r.Context().Done():
			return
		case <-s.release:
			return
		case <-hold:
		}
	}
	status, v := http.StatusOK, any(`{"status":"ok"}`)
	if answer != nil {
		status, v = answer(body)
	}
	b, err := encode(v)
	if err != nil {
		s.t.Errorf("wstest: answer to %s: %v", r.URL.Path, err)
		status, b = http.StatusInternalServerError, nil
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// URL is the absolute URL of path on the service.
func (s *Service) URL(path string) string { return s.srv.URL + path }

// On makes f decide the answers to path.
func (s *Service) On(path string, f AnswerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[path] = f
}

// Answer makes path answer status and body (as AnswerFunc writes it) every
// time.
func (s *Service) Answer(path string, status int, body any) {
	s.On(path, func(map[string]any) (int, any) { return status, body })
}

// SetHeader adds a header to every answer.
func (s *Service) SetHeader(key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.headers[key] = value
}

// Hang makes requests to path wait, without an answer, until the caller
// gives up on them or the test ends.
func (s *Service) Hang(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holds[path] = make(chan struct{})
}

// Block holds requests to path until release is called; they are then
// answered as usual. Calling release again does nothing.
func (s *Service) Block(path string) (release func()) {
	gate := make(chan struct{})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holds[path] = gate
	return sync.OnceFunc(func() { close(gate) })
}

// Calls returns the requests to path so far, in order.
func (s *Service) Calls(path string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

// Paths returns the path of every request so far, in order.
func (s *Service) Paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.calls))
	for i, c := range s.calls {
		out[i] = c.Path
	}
	return out
}

// WaitCalls waits until path has had at least n requests and returns
// them, failing the test when that takes longer than timeout.
func (s *Service) WaitCalls(path string, n int, timeout time.Duration) []Call {
	s.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		if calls := s.Calls(path); len(calls) >= n {
			return calls
		}
		select {
		case <-changed:
		case <-deadline.C:
			s.t.Fatalf("wstest: %s had %d calls within %s, want %d", path, len(s.Calls(path)), timeout, n)
			return nil
		}
	}
}

// OpenConns is how many client connections to the service are open now.
func (s *Service) OpenConns() int64 { return s.open.Load() }
