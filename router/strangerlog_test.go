package router

import (
	"bytes"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/wstest"
)

// lockedBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSpace(l.b.String()), "\n")
}

// TestStrangerLogsAreBoundedAndClipped: upgrades refused for a huge Origin
// log at most strangerLogBurst lines while the clock stands still, each
// carrying only the start of the Origin; once time passes, the next line
// says how many were held back.
func TestStrangerLogsAreBoundedAndClipped(t *testing.T) {
	t.Parallel()
	var buf lockedBuffer
	cfg := testConfig(t)
	cfg.AllowedOrigins = []string{"https://app.example.com"}
	r, err := New(cfg, Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var clockMu sync.Mutex
	now := time.Unix(1_800_000_000, 0)
	r.strangers.now = func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
	srv := serve(t, r)
	wstest.Eventually(t, 10*time.Second, "router ready", func() bool { return r.Ready() == nil })

	origin := "https://" + strings.Repeat("o", 100<<10) + ".example.org"
	refuse := func() {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", resp.StatusCode)
		}
	}
	const attempts = 50
	for range attempts {
		refuse()
	}
	refused := func() []string {
		var out []string
		for _, l := range buf.lines() {
			if strings.Contains(l, "origin not allowed") {
				out = append(out, l)
			}
		}
		return out
	}
	lines := refused()
	if len(lines) != strangerLogBurst {
		t.Fatalf("%d refused upgrades logged %d lines, want %d", attempts, len(lines), strangerLogBurst)
	}
	for _, l := range lines {
		if len(l) > 2*maxLoggedValue+512 {
			t.Fatalf("log line of %d bytes for a %d-byte Origin", len(l), len(origin))
		}
	}
	clockMu.Lock()
	now = now.Add(time.Second)
	clockMu.Unlock()
	refuse()
	lines = refused()
	want := `"suppressed":` + strconv.Itoa(attempts-strangerLogBurst)
	if last := lines[len(lines)-1]; !strings.Contains(last, want) {
		t.Fatalf("line after the pause %s, want it to carry %s", last, want)
	}
}
