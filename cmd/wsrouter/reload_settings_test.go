package main

import (
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/wstest"
)

// TestReloadAppliesSettings: allowed_origins and log.level apply at once;
// websocket settings apply to connections opened after the reload.
func TestReloadAppliesSettings(t *testing.T) {
	t.Parallel()
	f := newReloadFixture(t, nil)
	origin := http.Header{"Origin": {"https://app.example.com"}}
	if code := wstest.DialStatus(f.p.url(), origin); code != http.StatusForbidden {
		t.Fatalf("before the reload: HTTP %d for a foreign origin, want 403", code)
	}

	next := f.cfg.clone()
	next["allowed_origins"] = []string{"*.example.com"}
	next["websocket"] = map[string]any{"max_subscriptions": 1}
	next.section("log")["level"] = "info"
	f.p.writeConfig(next)
	f.p.waitReloads(1, "file changed")

	if code := wstest.DialStatus(f.p.url(), origin); code != http.StatusSwitchingProtocols {
		t.Errorf("after the reload: HTTP %d for an allowed origin, want 101", code)
	}
	fresh := wstest.Dial(t, f.p.url())
	fresh.Subscribe("books.one", nil)
	requireError(t, fresh, subscribeEvent("books.two"), "Too many subscriptions.")
	// The old connection keeps the limit it was opened with.
	f.client.Subscribe("books.one", nil)
	f.client.Subscribe("books.two", nil)

	f.p.writeConfig(f.cfg) // back to debug
	f.p.waitReloads(2, "file changed")
	c := wstest.Dial(t, f.p.url())
	c.Request(map[string]any{"event": "ping"})
	// The SIGHUP reload is logged after every line above, stderr being one
	// ordered stream: once it is in, they all are.
	f.p.signal(syscall.SIGHUP)
	f.p.waitReloads(1, "SIGHUP")
	// Debug "connected" lines: the fixture's client and c, none for the
	// two connections opened while log.level was info.
	if n := f.p.logs.count(msgIs("connected")); n != 2 {
		t.Errorf("%d connected (debug) lines, want 2: log.level info did not apply at once, or debug did not come back", n)
	}
}

// TestReloadShutdownTimeout: a reloaded shutdown_timeout bounds the next
// shutdown.
func TestReloadShutdownTimeout(t *testing.T) {
	t.Parallel()
	f := newReloadFixture(t, nil)
	f.svc.Hang("/before_unsubscribe")
	next := f.cfg.clone()
	next["shutdown_timeout"] = "1s"
	next.services()["books"] = callbacksAt(f.svc, "before_unsubscribe")
	f.p.writeConfig(next)
	f.p.waitReloads(1, "")
	f.client.Subscribe("books.hang", nil)

	start := time.Now()
	f.p.signal(syscall.SIGTERM)
	if code := f.p.waitExit(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	// It started with 5s; allow for process exit on a busy machine.
	if elapsed := time.Since(start); elapsed > 4*time.Second {
		t.Errorf("exit %s after SIGTERM; the reloaded shutdown_timeout is 1s", elapsed)
	}
	f.p.logs.wait(t, time.Second, "shutting down", func(l logLine) bool {
		return l.msg() == "shutting down" && l.str("shutdown_timeout") == "1s"
	})
}

// TestReloadKeepsCallbackConnectionsBounded: each reload may replace the
// callback client, but the connections of the one it replaces must be
// closed, or every reload leaves keep-alive connections behind.
func TestReloadKeepsCallbackConnectionsBounded(t *testing.T) {
	t.Parallel()
	f := newReloadFixture(t, nil)
	f.cfg.services()["books"] = callbacksAt(f.svc, "before_subscribe")
	f.p.writeConfig(f.cfg)
	f.p.waitReloads(1, "")
	const reloads = 10
	for i := range reloads {
		next := f.cfg.clone() // a changed http section: a new callback client
		next.section("http")["timeout"] = (2*time.Second + time.Duration(i)*time.Millisecond).String()
		f.p.writeConfig(next)
		f.p.signal(syscall.SIGHUP)
		f.p.waitReloads(i+1, "SIGHUP")
		name := "books.r" + string(rune('a'+i))
		f.client.Subscribe(name, nil) // one callback with the client of this reload
		f.client.Request(map[string]any{"event": "unsubscribe", "subscription": name})
	}
	f.svc.WaitCalls("/before_subscribe", reloads, 5*time.Second)
	deadline := time.Now().Add(3 * time.Second)
	for f.svc.OpenConns() > 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections from the router to the callback service stay open after %d reloads "+
				"(one callback after each); connections of replaced callback clients are not closed",
				f.svc.OpenConns(), reloads)
		}
		time.Sleep(25 * time.Millisecond)
	}
}
