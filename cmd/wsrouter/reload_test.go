package main

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// reloadFixture is a running router with a books service whose callbacks
// point at svc, and a client subscribed to books.keep.
type reloadFixture struct {
	rs     *testredis.Server
	svc    *wstest.Service
	cfg    config
	p      *routerProc
	pub    *publisher
	client *wstest.Client
	seq    int
}

func newReloadFixture(t *testing.T, books map[string]any) *reloadFixture {
	t.Helper()
	f := &reloadFixture{rs: testredis.Start(t), svc: wstest.NewService(t)}
	f.cfg = baseConfig(t, f.rs.URL())
	if books == nil {
		books = map[string]any{"require_authentication": false}
	}
	f.cfg.services()["books"] = books
	f.p = startRouter(t, f.cfg)
	f.pub = newPublisher(t, f.rs)
	f.client = wstest.Dial(t, f.p.url())
	f.client.Subscribe("books.keep", nil)
	f.checkKeepReceiving()
	return f
}

// checkKeepReceiving publishes on books.keep and requires the client to
// receive it next, on the connection it has had from the start.
func (f *reloadFixture) checkKeepReceiving() {
	f.seq++
	f.pub.publish("books.keep", numbered(f.seq))
	f.client.ExpectMessage("books.keep", numbered(f.seq))
}

// requireError sends ev and requires an error reply with text want.
func requireError(t *testing.T, c *wstest.Client, ev map[string]any, want string) {
	t.Helper()
	if r := c.Request(ev); r["status"] != "error" || r["error"] != want {
		t.Fatalf("%v: reply %v, want error %q", ev, r, want)
	}
}

func subscribeEvent(name string) map[string]any {
	return map[string]any{"event": "subscribe", "subscription": name}
}

// TestReloadAddService: a service added to the file is subscribable on an
// existing connection, which keeps receiving across the reload.
func TestReloadAddService(t *testing.T) {
	t.Parallel()
	f := newReloadFixture(t, nil)
	requireError(t, f.client, subscribeEvent("news.x"), "Invalid service.")

	next := f.cfg.clone()
	next.services()["news"] = map[string]any{"require_authentication": false}
	f.p.writeConfig(next)
	f.p.waitReloads(1, "file changed")
	line := f.p.logs.wait(t, time.Second, "reloaded", msgIs("config reloaded"))
	if !strings.Contains(line.raw, `"services_added":["news"]`) {
		t.Errorf("reload log does not name the added service: %s", line.raw)
	}

	f.checkKeepReceiving()
	f.client.Subscribe("news.x", nil)
	f.pub.publish("news.x", "fresh")
	f.client.ExpectMessage("news.x", "fresh")
	f.checkKeepReceiving()
}

// TestReloadCallbackURL: changed callback URLs apply to the next callback,
// for new and existing subscriptions.
func TestReloadCallbackURL(t *testing.T) {
	t.Parallel()
	svcB := wstest.NewService(t)
	f := newReloadFixture(t, nil)
	books := callbacksAt(f.svc, "before_subscribe", "before_unsubscribe")
	f.cfg.services()["books"] = books
	f.p.writeConfig(f.cfg)
	f.p.waitReloads(1, "")
	f.client.Subscribe("books.one", nil)
	f.svc.WaitCalls("/before_subscribe", 1, 5*time.Second)

	next := f.cfg.clone()
	next.services()["books"] = callbacksAt(svcB, "before_subscribe", "before_unsubscribe")
	f.p.writeConfig(next)
	f.p.waitReloads(2, "")

	f.client.Subscribe("books.two", nil)
	svcB.WaitCalls("/before_subscribe", 1, 5*time.Second)
	if r := f.client.Request(map[string]any{"event": "unsubscribe", "subscription": "books.one"}); r["status"] != "ok" {
		t.Fatalf("unsubscribe reply %v", r)
	}
	calls := svcB.WaitCalls("/before_unsubscribe", 1, 5*time.Second)
	if calls[0].Body["subscription"] != "books.one" {
		t.Errorf("before_unsubscribe body %v", calls[0].Body)
	}
	if n := len(f.svc.Calls("/before_subscribe")); n != 1 {
		t.Errorf("old before_subscribe URL called %d times, want 1 (before the reload)", n)
	}
	if n := len(f.svc.Calls("/before_unsubscribe")); n != 0 {
		t.Errorf("old before_unsubscribe URL called %d times after the reload", n)
	}
	f.checkKeepReceiving()
}

// TestReloadRemoveService: a removed service's subscriptions end with
// "Service removed." and their unsubscribe callbacks at the old URLs.
func TestReloadRemoveService(t *testing.T) {
	t.Parallel()
	f := newReloadFixture(t, nil)
	news := callbacksAt(f.svc, "before_unsubscribe", "on_unsubscribe")
	news["extra_fields"] = []string{"org"}
	withNews := f.cfg.clone()
	withNews.services()["news"] = news
	f.p.writeConfig(withNews)
	f.p.waitReloads(1, "")
	f.client.Subscribe("news.n", map[string]any{"org": 7, "ignored": true})

	f.p.writeConfig(f.cfg) // news removed
	f.p.waitReloads(2, "")
	got := f.client.ReadWithin(5 * time.Second)
	want := map[string]any{"event": "unsubscribe", "subscription": "news.n", "error": "Service removed.", "org": 7}
	if !wstest.SameJSON(got, want) {
		t.Fatalf("client got %v, want %v", got, want)
	}
	for _, path := range []string{"/before_unsubscribe", "/on_unsubscribe"} {
		calls := f.svc.WaitCalls(path, 1, 5*time.Second)
		if !wstest.SameJSON(calls[0].Body, map[string]any{"subscription": "news.n", "org": 7}) {
			t.Errorf("%s body %v", path, calls[0].Body)
		}
	}
	line := f.p.logs.waitN(t, time.Second, 2, "reloaded", msgIs("config reloaded"))
	if !strings.Contains(line.raw, `"services_removed":["news"]`) {
		t.Errorf("reload log does not name the removed service: %s", line.raw)
	}
	requireError(t, f.client, subscribeEvent("news.n"), "Invalid service.")
	requireError(t, f.client, map[string]any{"event": "message", "subscription": "news.n", "data": 1}, "Invalid service.")
	f.checkKeepReceiving()
}

// TestReloadInvalid: an invalid file changes nothing, logs every problem
// with its key path and counts an error; a valid edit after it applies.
func TestReloadInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		break_  func(services map[string]any, svc *wstest.Service)
		keyPath string
	}{
		{name: "unknown key", keyPath: "services.news.authoriser", break_: func(s map[string]any, svc *wstest.Service) {
			s["news"].(map[string]any)["authoriser"] = svc.URL("/authorizer")
		}},
		{name: "bad URL", keyPath: "services.books.before_subscribe", break_: func(s map[string]any, svc *wstest.Service) {
			s["books"].(map[string]any)["before_subscribe"] = "not-a-url"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newReloadFixture(t, nil)
			f.cfg.services()["books"] = callbacksAt(f.svc, "before_subscribe")
			f.p.replaceConfig(f.cfg)
			f.p.waitReloads(1, "")

			good := f.cfg.clone()
			good.services()["news"] = map[string]any{"require_authentication": false}
			bad := good.clone()
			tc.break_(bad.services(), f.svc)
			f.p.replaceConfig(bad) // whole files: a save caught midway counts an error of its own (TestReloadEmptyFile)
			line := f.p.logs.wait(t, 5*time.Second, "rejected", func(l logLine) bool {
				return strings.HasPrefix(l.msg(), "config reload rejected") && strings.Contains(l.str("problem"), tc.keyPath)
			})
			if !strings.Contains(line.str("problem"), f.p.path) {
				t.Errorf("problem does not name the file: %s", line.raw)
			}
			waitMetric(t, f.p, 1, "wsrouter_config_reload_total", "result=error")

			// Everything runs as before: the old callbacks, no news service.
			requireError(t, f.client, subscribeEvent("news.x"), "Invalid service.")
			f.client.Subscribe("books.after", nil)
			f.svc.WaitCalls("/before_subscribe", 1, 5*time.Second)
			f.checkKeepReceiving()
			if v := f.p.metric("wsrouter_config_reload_total", "result=ok"); v != 1 {
				t.Errorf("reload ok count %v, want 1", v)
			}

			f.p.replaceConfig(good)
			f.p.waitReloads(2, "")
			waitMetric(t, f.p, 2, "wsrouter_config_reload_total", "result=ok")
			f.client.Subscribe("news.x", nil)
			if v := f.p.metric("wsrouter_config_reload_total", "result=error"); v != 1 {
				t.Errorf("reload error count %v, want 1", v)
			}
			f.checkKeepReceiving()
		})
	}
}

// TestReloadEditorRename: a new file renamed over the configuration, as
// editors save, is picked up, and so is the next one.
func TestReloadEditorRename(t *testing.T) {
	t.Parallel()
	f := newReloadFixture(t, nil)
	next := f.cfg.clone()
	for i, name := range []string{"news", "sport"} {
		next = next.clone()
		next.services()[name] = map[string]any{"require_authentication": false}
		f.p.replaceConfig(next)
		f.p.waitReloads(i+1, "file changed")
		f.client.Subscribe(name+".x", nil)
		f.checkKeepReceiving()
	}
}

// TestReloadCoalescing: several writes within 200ms are one reload, and a
// SIGHUP reloads an unchanged file.
func TestReloadCoalescing(t *testing.T) {
	t.Parallel()
	f := newReloadFixture(t, nil)
	for i := range 5 {
		next := f.cfg.clone()
		next.services()["books"].(map[string]any)["extra_fields"] = []string{strings.Repeat("x", i+1)}
		f.p.writeConfig(next)
		time.Sleep(20 * time.Millisecond) // paces the writes; not an assertion
	}
	f.p.waitReloads(1, "file changed")

	f.p.signal(syscall.SIGHUP) // the file is as the last reload read it
	f.p.waitReloads(1, "SIGHUP")
	waitMetric(t, f.p, 2, "wsrouter_config_reload_total", "result=ok")
	// Any reload left over from the burst would have fired by now; give a
	// late one a chance to show before counting.
	deadline := time.Now().Add(3 * coalesce)
	for time.Now().Before(deadline) {
		if n := f.p.reloads("file changed"); n != 1 {
			t.Fatalf("%d file reloads for one burst of writes, want 1", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.checkKeepReceiving()
}

// TestReloadRestartOnly: listen, redis and log.format changes are logged as
// needing a restart and otherwise ignored.
func TestReloadRestartOnly(t *testing.T) {
	t.Parallel()
	f := newReloadFixture(t, nil)
	next := f.cfg.clone()
	next["listen"] = freeAddr(t)
	next.section("redis")["url"] = "redis://127.0.0.1:1/0"
	next.section("log")["format"] = "text"
	next.services()["news"] = map[string]any{"require_authentication": false}
	f.p.writeConfig(next)
	f.p.waitReloads(1, "file changed")
	for _, key := range []string{"listen", "redis", "log.format"} {
		f.p.logs.wait(t, time.Second, "restart needed for "+key, func(l logLine) bool {
			return l.msg() == "config change needs a restart; ignored until then" && l.str("key") == key
		})
	}
	// The rest of the file applied; the listener, Redis and format did not change.
	f.client.Subscribe("news.x", nil)
	f.checkKeepReceiving()
	if conn, err := wstest.DialConn(context.Background(), "ws://"+next["listen"].(string)+"/", nil); err == nil {
		conn.CloseNow()
		t.Error("the router listens on the new address without a restart")
	}
	wstest.Dial(t, f.p.url()).Subscribe("books.new", nil)
	f.p.waitReady(5 * time.Second)
	for _, l := range f.p.logs.entries() {
		if l.m == nil {
			t.Fatalf("log format changed without a restart: %s", l.raw)
		}
	}
}

// waitMetric polls a series until it has value want.
func waitMetric(t *testing.T, p *routerProc, want float64, name string, labels ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := p.metric(name, labels...)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s%v = %v, want %v", name, labels, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReloadEmptyFile: a file caught empty in the middle of a save (the
// truncation before the write) is not applied, which would remove every
// service; the complete file that follows is.
func TestReloadEmptyFile(t *testing.T) {
	t.Parallel()
	f := newReloadFixture(t, nil)
	writeFile(t, f.p.path, nil)
	f.p.logs.wait(t, 5*time.Second, "rejected", func(l logLine) bool {
		return strings.HasPrefix(l.msg(), "config reload rejected") && strings.Contains(l.str("problem"), "empty")
	})
	waitMetric(t, f.p, 1, "wsrouter_config_reload_total", "result=error")
	f.checkKeepReceiving()
	f.client.Subscribe("books.other", nil)

	next := f.cfg.clone()
	next.services()["news"] = map[string]any{"require_authentication": false}
	f.p.writeConfig(next)
	f.p.waitReloads(1, "file changed")
	f.client.Subscribe("news.x", nil)
	f.checkKeepReceiving()
}
