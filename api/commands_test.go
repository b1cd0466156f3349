package api

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/control"
)

func TestCommandsGoToTheControlChannel(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	msgs := h.listen(control.Channel(h.prefix))
	tests := []struct {
		path, body string
		want       control.Command
	}{
		{"/api/disconnect", `{"match":{"user_id":"1","org":{"a":1}}}`,
			control.Command{Op: control.Disconnect, Match: map[string]json.RawMessage{"user_id": json.RawMessage(`"1"`), "org": json.RawMessage(`{"a":1}`)}}},
		{"/api/disconnect", `{"session":"0a1b"}`, control.Command{Op: control.Disconnect, Session: "0a1b"}},
		{"/api/unsubscribe", `{"subscription":"books.b1","match":{"user_id":1}}`,
			control.Command{Op: control.Unsubscribe, Subscription: "books.b1", Match: map[string]json.RawMessage{"user_id": json.RawMessage(`1`)}}},
		{"/api/unsubscribe", `{"subscription":"news.n","session":"0a1b"}`, control.Command{Op: control.Unsubscribe, Subscription: "news.n", Session: "0a1b"}},
	}
	for _, tt := range tests {
		code, ans := h.do("POST", tt.path, tt.body)
		if code != http.StatusOK || len(ans) != 1 || ans["status"] != "ok" {
			t.Fatalf("%s %s: %d %v", tt.path, tt.body, code, ans)
		}
		m := next(t, msgs)
		got, err := control.Decode([]byte(m.Payload))
		if err != nil {
			t.Fatalf("%s: control message %s: %v", tt.path, m.Payload, err)
		}
		if got.Op != tt.want.Op || got.Session != tt.want.Session || got.Subscription != tt.want.Subscription || len(got.Match) != len(tt.want.Match) {
			t.Errorf("%s %s: sent %+v, want %+v", tt.path, tt.body, got, tt.want)
		}
		for k, v := range tt.want.Match {
			if !control.JSONEqual(got.Match[k], v) {
				t.Errorf("match %s = %s, want %s", k, got.Match[k], v)
			}
		}
	}
}

func TestInfoListsLiveNodes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	start := func(id string, conns int) (stop func()) {
		a := NewAnnouncer(AnnouncerOptions{Redis: h.rdb, ChannelPrefix: h.prefix, ID: id, Version: "v1",
			Started: time.Now().Add(-90 * time.Second), Interval: 100 * time.Millisecond,
			Stats: func() NodeStats { return NodeStats{Connections: conns, Subscriptions: 2 * conns} }})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); a.Run(ctx) }()
		return func() { cancel(); <-done }
	}
	stopA := start("node-a", 3)
	stopB := start("node-b", 5)
	defer stopB()

	nodes := waitNodes(t, h, 2)
	if nodes[0].ID != "node-a" || nodes[0].Connections != 3 || nodes[0].Subscriptions != 6 || nodes[0].Version != "v1" ||
		nodes[0].UptimeS < 90 || nodes[0].UptimeS > 200 {
		t.Errorf("node a: %+v", nodes[0])
	}
	if nodes[1].ID != "node-b" || nodes[1].Connections != 5 {
		t.Errorf("node b: %+v", nodes[1])
	}
	stopA() // a clean stop removes the record at once
	if nodes := waitNodes(t, h, 1); nodes[0].ID != "node-b" {
		t.Errorf("after node a stopped: %+v", nodes)
	}

	// A node that stops refreshing without removing its record (killed)
	// drops out when the record expires, and its id is forgotten.
	ctx := context.Background()
	if err := h.rdb.Set(ctx, nodeKey(h.prefix, "dead"), `{"id":"dead"}`, 300*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	h.rdb.SAdd(ctx, nodeSetKey(h.prefix), "dead")
	waitNodes(t, h, 2)
	waitNodes(t, h, 1)
	if ids := h.rdb.SMembers(ctx, nodeSetKey(h.prefix)).Val(); len(ids) != 1 || ids[0] != "node-b" {
		t.Errorf("node set after expiry: %v", ids)
	}
}

// waitNodes polls info until it lists n nodes.
func waitNodes(t *testing.T, h *harness, n int) []NodeInfo {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, ans := h.do("GET", "/api/info", nil)
		if code != http.StatusOK || ans["status"] != "ok" {
			t.Fatalf("info: %d %v", code, ans)
		}
		raw, _ := json.Marshal(ans["nodes"])
		var nodes []NodeInfo
		if err := json.Unmarshal(raw, &nodes); err != nil {
			t.Fatal(err)
		}
		if len(nodes) == n {
			return nodes
		}
		if time.Now().After(deadline) {
			t.Fatalf("info lists %d nodes, want %d: %+v", len(nodes), n, nodes)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
