package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// okAnswer is what the callback server answers to every request: the
// answer of a service that allows everything.
const okAnswer = `{"status":"ok"}`

// callbackServer stands in for a service's callback endpoints: every POST
// on any path gets 200 {"status":"ok"}. It counts the requests per path.
type callbackServer struct {
	mu    sync.Mutex
	calls map[string]int
}

func (s *callbackServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	s.mu.Lock()
	if s.calls == nil {
		s.calls = map[string]int{}
	}
	s.calls[r.URL.Path]++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, okAnswer)
}

// counts returns "path=n" pairs, sorted by path.
func (s *callbackServer) counts() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for p, n := range s.calls {
		out = append(out, fmt.Sprintf("%s=%d", p, n))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// serveCallbacks runs the callback server on addr until ctx ends, then
// writes the request counts to log.
func serveCallbacks(ctx context.Context, addr string, log io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("wsbench: callback server: %w", err)
	}
	cs := &callbackServer{}
	srv := &http.Server{Handler: cs, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(log, "wsbench: callback server on http://%s/ answers %s\n", ln.Addr(), okAnswer)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("wsbench: callback server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("wsbench: callback server: %w", err)
	}
	fmt.Fprintf(log, "wsbench: callback server answered %s\n", cs.counts())
	return nil
}
