package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

// logLine is one line the router wrote to stderr, decoded when it is JSON.
type logLine struct {
	raw string
	m   map[string]any // nil when the line is not a JSON object
}

// str returns the string value of key, or "".
func (l logLine) str(key string) string {
	s, _ := l.m[key].(string)
	return s
}

// msg is the line's slog message.
func (l logLine) msg() string { return l.str("msg") }

// logSink collects the router's stderr line by line, so tests can wait for
// a line and grep the whole output.
type logSink struct {
	mu      sync.Mutex
	all     bytes.Buffer
	partial []byte
	lines   []logLine
	changed chan struct{} // closed and replaced on every new line
}

func newLogSink() *logSink { return &logSink{changed: make(chan struct{})} }

// Write implements io.Writer.
func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all.Write(p)
	s.partial = append(s.partial, p...)
	added := false
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		raw := string(s.partial[:i])
		s.partial = s.partial[i+1:]
		line := logLine{raw: raw}
		var m map[string]any
		if json.Unmarshal([]byte(raw), &m) == nil {
			line.m = m
		}
		s.lines = append(s.lines, line)
		added = true
	}
	if added {
		close(s.changed)
		s.changed = make(chan struct{})
	}
	return len(p), nil
}

// text returns everything written so far.
func (s *logSink) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.all.String()
}

// snapshot returns the complete lines so far and a channel closed when
// another arrives.
func (s *logSink) snapshot() ([]logLine, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lines[:len(s.lines):len(s.lines)], s.changed
}

// entries returns the complete lines so far.
func (s *logSink) entries() []logLine {
	l, _ := s.snapshot()
	return l
}

// count returns how many lines so far match.
func (s *logSink) count(match func(logLine) bool) int {
	lines, _ := s.snapshot()
	n := 0
	for _, l := range lines {
		if match(l) {
			n++
		}
	}
	return n
}

// waitN waits until n lines match, and returns the n-th; it fails the
// test after timeout.
func (s *logSink) waitN(t testing.TB, timeout time.Duration, n int, what string, match func(logLine) bool) logLine {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		lines, changed := s.snapshot()
		seen := 0
		for _, l := range lines {
			if match(l) {
				if seen++; seen == n {
					return l
				}
			}
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("no log line %q (wanted %d, saw %d) within %s", what, n, seen, timeout)
			return logLine{}
		}
	}
}

// wait waits for the first line that matches.
func (s *logSink) wait(t testing.TB, timeout time.Duration, what string, match func(logLine) bool) logLine {
	t.Helper()
	return s.waitN(t, timeout, 1, what, match)
}

// tail returns the last n lines, for failure reports.
func (s *logSink) tail(n int) string {
	lines, _ := s.snapshot()
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.raw)
		b.WriteByte('\n')
	}
	return b.String()
}

// msgIs matches lines whose message is msg.
func msgIs(msg string) func(logLine) bool {
	return func(l logLine) bool { return l.msg() == msg }
}
