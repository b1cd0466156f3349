package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// TestRecoveryAcrossARestart is the whole path end to end: messages
// published with `wsrouter publish` while a client is away, and while the
// router itself restarts, reach the client once and in order when it
// reconnects with the last offset it saw.
func TestRecoveryAcrossARestart(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	cfg := baseConfig(t, srv.URL())
	cfg.services()["books"] = map[string]any{"require_authentication": false, "history": map[string]any{"size": 50, "ttl": "1m"}}
	p := startRouter(t, cfg)
	publishN := func(from, to int) {
		t.Helper()
		for i := from; i <= to; i++ {
			code, _, stderr := runCLI(t, "publish", "-config", p.path, "books.b1", fmt.Sprintf(`{"data":{"n":%d}}`, i))
			if code != 0 {
				t.Fatalf("publish %d: exit %d: %s", i, code, stderr)
			}
		}
	}
	receive := func(c *wstest.Client, from, to int) string {
		t.Helper()
		var last string
		for i := from; i <= to; i++ {
			m := c.ExpectMessage("books.b1", map[string]any{"n": float64(i)})
			off, ok := m["offset"].(string)
			if !ok || off == last {
				t.Fatalf("delivery %d: offset %v after %q", i, m["offset"], last)
			}
			last = off
		}
		return last
	}

	c := wstest.Dial(t, p.url())
	c.Subscribe("books.b1", nil)
	publishN(1, 3)
	last := receive(c, 1, 3)
	c.CloseNow()

	publishN(4, 5) // while the client is away
	p.signal(syscall.SIGTERM)
	if code := p.waitExit(15 * time.Second); code != 0 {
		t.Fatalf("router exit %d", code)
	}
	publishN(6, 7) // while no router runs at all
	p = startRouter(t, cfg)

	c = wstest.Dial(t, p.url())
	reply := c.Subscribe("books.b1", map[string]any{"since": last})
	if reply["recovered"] != true {
		t.Fatalf("reply %v, want recovered:true", reply)
	}
	newest := receive(c, 4, 7)
	if reply["offset"] != newest {
		t.Fatalf("reply offset %v, want the newest %s", reply["offset"], newest)
	}
	publishN(8, 8)
	receive(c, 8, 8)
	c.Quiet(200 * time.Millisecond)
	if _, body, err := p.get("/metrics"); err != nil || !strings.Contains(body, `wsrouter_history_recoveries_total{result="recovered"} 1`) {
		t.Fatalf("metrics (%v) lack one recovery:\n%s", err, body)
	}
}
