package main

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

// svcCall is one callback request the fake service received.
type svcCall struct {
	path string
	body map[string]any
}

// answerFunc decides a callback's answer from its body.
type answerFunc func(body map[string]any) (status int, answer any)

// fakeService is an HTTP callback service: it records every request and
// answers {"status":"ok"} unless a path has its own answer, or hangs.
type fakeService struct {
	t       testing.TB
	srv     *httptest.Server
	release chan struct{} // closed when the test ends: hanging requests return
	open    atomic.Int64  // client connections open now

	mu      sync.Mutex
	calls   []svcCall
	answers map[string]answerFunc
	hangs   map[string]chan struct{}
	changed chan struct{}
}

func newService(t testing.TB) *fakeService {
	s := &fakeService{
		t:       t,
		release: make(chan struct{}),
		answers: map[string]answerFunc{},
		hangs:   map[string]chan struct{}{},
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

func (s *fakeService) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	s.mu.Lock()
	s.calls = append(s.calls, svcCall{path: r.URL.Path, body: body})
	close(s.changed)
	s.changed = make(chan struct{})
	answer, hang := s.answers[r.URL.Path], s.hangs[r.URL.Path]
	s.mu.Unlock()
	if hang != nil {
		select {
		case <-r.Context().Done():
			return
		case <-s.release:
			return
		case <-hang:
		}
	}
	status, v := http.StatusOK, any(map[string]any{"status": "ok"})
	if answer != nil {
		status, v = answer(body)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// url is the absolute URL of path on the service.
func (s *fakeService) url(path string) string { return s.srv.URL + path }

// answer sets how path answers.
func (s *fakeService) answer(path string, f answerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[path] = f
}

// hang makes requests to path block, without an answer, until the caller
// gives up or the test ends.
func (s *fakeService) hang(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hangs[path] = make(chan struct{})
}

// block holds requests to path until the returned func is called; they
// are then answered as usual.
func (s *fakeService) block(path string) (release func()) {
	gate := make(chan struct{})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hangs[path] = gate
	var once sync.Once
	return func() { once.Do(func() { close(gate) }) }
}

// callsTo returns the requests to path so far.
func (s *fakeService) callsTo(path string) []svcCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []svcCall
	for _, c := range s.calls {
		if c.path == path {
			out = append(out, c)
		}
	}
	return out
}

// waitCalls waits until path has had at least n requests and returns them.
func (s *fakeService) waitCalls(path string, n int, timeout time.Duration) []svcCall {
	s.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		if calls := s.callsTo(path); len(calls) >= n {
			return calls
		}
		select {
		case <-changed:
		case <-deadline.C:
			s.t.Fatalf("%s: %d calls within %s, want %d", path, len(s.callsTo(path)), timeout, n)
			return nil
		}
	}
}
