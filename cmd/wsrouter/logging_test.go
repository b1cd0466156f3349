package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// TestLogHygiene: session lines carry the session id, tickets never reach
// the log, and callback URLs are logged without their password.
func TestLogHygiene(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	svc := wstest.NewService(t)
	const (
		goodTicket   = "tkt-good-7f3a9c1e5b"
		badTicket    = "tkt-bad-2d8e4a6c0f"
		brokenTicket = "tkt-5xx-9b1d3f5a7c"
		password     = "pw-s3cret-41c7"
	)
	svc.On("/ticket", func(body map[string]any) (int, any) {
		switch body["ticket"] {
		case goodTicket:
			return http.StatusOK, map[string]any{"status": "ok", "user_id": 7}
		case brokenTicket:
			return http.StatusInternalServerError, map[string]any{"error": "boom " + brokenTicket}
		default:
			return http.StatusOK, map[string]any{"status": "error", "error": "Bad ticket."}
		}
	})
	svc.On("/before_subscribe", func(map[string]any) (int, any) {
		return http.StatusServiceUnavailable, nil
	})
	secretURL := strings.Replace(svc.URL("/before_subscribe"), "http://", "http://hook:"+password+"@", 1)
	cfg := baseConfig(t, rs.URL())
	cfg["http"] = map[string]any{"timeout": "2s", "tries": 2, "wait": "10ms"}
	cfg["authentication"] = map[string]any{"ticket": map[string]any{
		"validation_url": svc.URL("/ticket"), "auth_fields": []string{"user_id"},
	}}
	cfg.services()["books"] = map[string]any{"before_subscribe": secretURL}
	p := startRouter(t, cfg)

	c := wstest.Dial(t, p.url())
	for _, tc := range []struct {
		ticket, status string
	}{{badTicket, "error"}, {brokenTicket, "error"}, {goodTicket, "ok"}} {
		r := c.Request(map[string]any{"event": "auth", "method": "ticket", "ticket": tc.ticket})
		if r["status"] != tc.status {
			t.Fatalf("auth with %s: %v, want status %s", tc.ticket, r, tc.status)
		}
	}
	if r := c.Request(map[string]any{"event": "subscribe", "subscription": "books.x"}); r["error"] != "Service unavailable." {
		t.Fatalf("subscribe reply %v, want Service unavailable.", r)
	}
	if got := len(svc.Calls("/before_subscribe")); got != 2 {
		t.Fatalf("before_subscribe tried %d times, want 2", got)
	}
	redacted := svc.URL("/before_subscribe")
	p.logs.wait(t, 5*time.Second, "unavailable callback", func(l logLine) bool {
		return l.msg() == "callback service unavailable" && l.str("callback") == "before_subscribe"
	})
	c.CloseNow()
	p.logs.wait(t, 5*time.Second, "client closed", func(l logLine) bool {
		return l.msg() == "connection ended" || l.msg() == "client closed"
	})

	text := p.logs.text()
	for _, secret := range []string{goodTicket, badTicket, brokenTicket, password} {
		if strings.Contains(text, secret) {
			t.Errorf("the log contains %q:\n%s", secret, grepLines(text, secret))
		}
	}
	if !strings.Contains(text, `"url":"`+redacted+`"`) {
		t.Errorf("no log line names the callback URL %s", redacted)
	}
	for _, msg := range []string{"connected", "authenticated"} {
		line := p.logs.wait(t, time.Second, msg, msgIs(msg))
		if line.str("session") == "" {
			t.Errorf("%q line has no session: %s", msg, line.raw)
		}
	}
	// The callbacks a client's events made are about its session too.
	var bare []string
	for _, l := range p.logs.entries() {
		if l.str("callback") != "" && l.str("session") == "" {
			bare = append(bare, l.raw)
		}
	}
	if len(bare) > 0 {
		t.Errorf("%d callback log lines for this client's events have no session, e.g. %s", len(bare), bare[0])
	}
}

func grepLines(text, s string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
