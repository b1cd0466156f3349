package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// presenceConfig is a configuration with a presence service "chat" whose
// member is the extra field "user", and a service "plain" without
// presence. Entries live 1 s unrefreshed, so a killed node's members
// leave within about 1.4 s instead of 40 s.
func presenceConfig(t *testing.T, rs *testredis.Server) config {
	cfg := baseConfig(t, rs.URL())
	cfg["presence_ttl"] = "1s"
	cfg.section("websocket")["events_per_second"] = 100000
	cfg.section("websocket")["events_burst"] = 100000
	cfg.services()["chat"] = map[string]any{
		"require_authentication": false,
		"extra_fields":           []string{"user"},
		"presence":               true,
		"presence_fields":        []string{"user"},
		"presence_events":        true,
	}
	cfg.services()["plain"] = map[string]any{"require_authentication": false}
	return cfg
}

// twoNodes starts two routers on one Redis.
func twoNodes(t *testing.T, rs *testredis.Server) (a, b *routerProc) {
	cfgA := presenceConfig(t, rs)
	cfgB := cfgA.clone()
	cfgB["listen"], cfgB.section("metrics")["listen"] = freeAddr(t), freeAddr(t)
	return startRouter(t, cfgA), startRouter(t, cfgB)
}

// member subscribes a new client of p to chat.room as user.
func member(t *testing.T, p *routerProc, user string) *wstest.Client {
	t.Helper()
	c := wstest.Dial(t, p.url())
	c.Subscribe("chat.room", map[string]any{"user": user})
	return c
}

// expectPresence requires the next frame of c to be a join or leave of
// user on chat.room.
func expectPresence(t *testing.T, c *wstest.Client, kind, user string) {
	t.Helper()
	c.ExpectFields(map[string]any{"event": kind, "subscription": "chat.room", "member": map[string]any{"user": user}})
}

// members asks c for chat.room's members and returns their users in order.
func members(t *testing.T, c *wstest.Client) []string {
	t.Helper()
	m := c.Request(map[string]any{"event": "presence", "subscription": "chat.room"})
	if m["event"] != "presence" || m["status"] != "ok" {
		t.Fatalf("presence: %v", m)
	}
	list, _ := m["members"].([]any)
	users := []string{}
	for _, e := range list {
		u, _ := e.(map[string]any)["user"].(string)
		users = append(users, u)
	}
	return users
}

func TestPresenceAcrossNodes(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	a, b := twoNodes(t, rs)

	alice := member(t, a, "alice")
	bob := member(t, b, "bob")
	expectPresence(t, alice, "join", "bob")

	// One user with three tabs on two nodes is one member: one join.
	carol := []*wstest.Client{member(t, a, "carol"), member(t, b, "carol"), member(t, a, "carol")}
	expectPresence(t, alice, "join", "carol")
	expectPresence(t, bob, "join", "carol")
	dave := member(t, b, "dave") // nothing about carol comes before dave's join
	expectPresence(t, alice, "join", "dave")
	expectPresence(t, bob, "join", "dave")
	for _, c := range carol {
		expectPresence(t, c, "join", "dave") // the others' joins, never its own
	}

	if got, want := members(t, bob), []string{"alice", "bob", "carol", "dave"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("members from node b = %q, want %q", got, want)
	}
	if got := members(t, alice); strings.Join(got, ",") != "alice,bob,carol,dave" {
		t.Fatalf("members from node a = %q", got)
	}

	// carol leaves only when her last tab closes.
	carol[0].CloseNow()
	carol[1].CloseNow()
	dave.CloseNow()
	expectPresence(t, alice, "leave", "dave")
	expectPresence(t, carol[2], "leave", "dave")
	carol[2].CloseNow()
	expectPresence(t, alice, "leave", "carol")
	expectPresence(t, bob, "leave", "dave")
	expectPresence(t, bob, "leave", "carol")

	// An unsubscribe is a leave too; the member itself is told nothing.
	r := bob.Request(map[string]any{"event": "unsubscribe", "subscription": "chat.room"})
	if r["status"] != "ok" {
		t.Fatalf("unsubscribe: %v", r)
	}
	expectPresence(t, alice, "leave", "bob")
	if got := members(t, alice); strings.Join(got, ",") != "alice" {
		t.Fatalf("members after the others left = %q, want alice", got)
	}
}

func TestPresenceErrors(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	p := startRouter(t, presenceConfig(t, rs))
	c := wstest.Dial(t, p.url())
	c.Subscribe("plain.x", nil)
	tests := []struct {
		name string
		sub  any
		want string
	}{
		{"service without presence", "plain.x", "Presence is not enabled."},
		{"not subscribed", "chat.room", "Subscription does not exist."},
		{"unknown service", "nope.x", "Invalid service."},
		{"bad name", "chat", "Invalid subscription format."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := c.Request(map[string]any{"event": "presence", "subscription": tt.sub, "user": "x"})
			want := map[string]any{"event": "presence", "subscription": tt.sub, "status": "error", "error": tt.want}
			if tt.sub == "chat.room" {
				want["user"] = "x" // the request's extra fields are echoed
			}
			if !wstest.SameJSON(m, want) {
				t.Fatalf("reply %v, want %v", m, want)
			}
		})
	}
	// The reply carries the subscription's extra fields.
	c2 := member(t, p, "erin")
	m := c2.Request(map[string]any{"event": "presence", "subscription": "chat.room"})
	want := map[string]any{"event": "presence", "subscription": "chat.room", "status": "ok",
		"members": []any{map[string]any{"user": "erin"}}, "user": "erin"}
	if !wstest.SameJSON(m, want) {
		t.Fatalf("reply %v, want %v", m, want)
	}
}

func TestPresenceNodeKilled(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	a, b := twoNodes(t, rs)
	alice := member(t, a, "alice")
	member(t, b, "bob")
	expectPresence(t, alice, "join", "bob")
	before := a.metric("wsrouter_presence_events_total", "event=leave")

	b.signal(syscall.SIGKILL)
	b.waitExit(10 * time.Second)
	expectPresence(t, alice, "leave", "bob") // within presence_ttl and one refresh of node a
	if got := members(t, alice); strings.Join(got, ",") != "alice" {
		t.Fatalf("members after node b died = %q, want alice", got)
	}
	if got := a.metric("wsrouter_presence_events_total", "event=leave"); got != before+1 {
		t.Fatalf("node a counted %v leave events, want %v", got, before+1)
	}
}

func TestPresenceChurnLeavesNothing(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	a, b := twoNodes(t, rs)
	baseline := a.metric("go_goroutines")

	// Each client subscribes and unsubscribes in turn, reading the others'
	// join and leave events as they come.
	const cycles = 10000
	var wg sync.WaitGroup
	for i, p := range []*routerProc{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := wstest.Dial(t, p.url())
			defer c.CloseNow()
			await := func(event string) bool {
				for {
					m := c.ReadWithin(30 * time.Second)
					if m["event"] == "join" || m["event"] == "leave" {
						continue
					}
					if m["event"] != event || m["status"] != "ok" {
						t.Errorf("churn: want %s ok, got %v", event, m)
						return false
					}
					return true
				}
			}
			for j := range cycles / 4 {
				user := fmt.Sprintf("u%d", (i+j)%3)
				c.Send(map[string]any{"event": "subscribe", "subscription": "chat.room", "user": user})
				if !await("subscribe") {
					return
				}
				c.Send(map[string]any{"event": "unsubscribe", "subscription": "chat.room"})
				if !await("unsubscribe") {
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		all, err := rs.Client(t).Keys(ctx, "*").Result()
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, k := range all {
			if !strings.HasPrefix(k, "_wsrouter.node") { // the live nodes' records (/api/info)
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Redis keys left after churn: %q", keys)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, p := range []*routerProc{a, b} {
		if v := p.metric("wsrouter_presence_members"); v != 0 {
			t.Errorf("wsrouter_presence_members = %v after churn, want 0", v)
		}
	}
	deadline = time.Now().Add(10 * time.Second)
	for g := a.metric("go_goroutines"); g > baseline; g = a.metric("go_goroutines") {
		if time.Now().After(deadline) {
			t.Fatalf("node a runs %v goroutines after churn, %v before", g, baseline)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestPresenceReload(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	cfg := presenceConfig(t, rs)
	p := startRouter(t, cfg)
	alice := member(t, p, "alice")

	off := cfg.clone()
	off.services()["chat"] = map[string]any{"require_authentication": false, "extra_fields": []string{"user"}}
	p.writeConfig(off)
	p.signal(syscall.SIGHUP) // a SIGHUP reload reads the file as written
	p.waitReloads(1, "SIGHUP")
	m := alice.Request(map[string]any{"event": "presence", "subscription": "chat.room"})
	if m["error"] != "Presence is not enabled." {
		t.Fatalf("presence after turning it off: %v", m)
	}
	bob := member(t, p, "bob") // subscribes while presence is off: not a member

	p.writeConfig(cfg)
	p.signal(syscall.SIGHUP)
	p.waitReloads(2, "SIGHUP")
	if got := members(t, bob); strings.Join(got, ",") != "alice" {
		t.Fatalf("members after turning presence on again = %q, want alice only", got)
	}
	carol := member(t, p, "carol")
	expectPresence(t, alice, "join", "carol")
	expectPresence(t, bob, "join", "carol")
	carol.CloseNow()
	expectPresence(t, bob, "leave", "carol")
	alice.CloseNow()
	expectPresence(t, bob, "leave", "alice")
}
