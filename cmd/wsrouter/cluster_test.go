package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/internal/testcluster"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// clusterConfig is apiConfig on a Redis Cluster, with limits that let one
// client subscribe to a thousand names at once, a books service and a hist
// service with history.
func clusterConfig(t testing.TB, rc *testcluster.Cluster) config {
	cfg := apiConfig(t, "", wstest.NewService(t))
	delete(cfg, "authentication")
	redisSection := cfg.section("redis")
	delete(redisSection, "url")
	redisSection["cluster"] = map[string]any{"addrs": rc.Addrs[:3]}
	cfg["websocket"] = map[string]any{"events_per_second": 100000, "events_burst": 100000, "send_queue": 20000}
	cfg.services()["books"] = map[string]any{"require_authentication": false}
	cfg.services()["hist"] = map[string]any{"require_authentication": false, "history": map[string]any{"size": 10000, "ttl": "10m"}}
	return cfg
}

// secondNode is cfg with its own listeners, for another router node.
func secondNode(t testing.TB, cfg config) config {
	next := cfg.clone()
	next["listen"] = freeAddr(t)
	next.section("metrics")["listen"] = freeAddr(t)
	next.section("api")["listen"] = freeAddr(t)
	next.section("api")["keys"] = []string{apiKey}
	return next
}

// subscribeAll subscribes c to every name, sending all the events before
// reading the replies.
func subscribeAll(t testing.TB, c *wstest.Client, names []string) {
	t.Helper()
	for _, n := range names {
		c.Send(map[string]any{"event": "subscribe", "subscription": n})
	}
	for range names {
		if r := c.Read(); r["event"] != "subscribe" || r["status"] != "ok" {
			t.Fatalf("subscribe reply %v", r)
		}
	}
}

// spublish sends {"subscription":name,"data":data} with SPUBLISH.
func spublish(ctx context.Context, rdb *redis.ClusterClient, name string, data any) error {
	b, err := json.Marshal(map[string]any{"subscription": name, "data": data})
	if err != nil {
		return err
	}
	return rdb.SPublish(ctx, name, b).Err()
}

// TestClusterDeliversOnce: two router nodes on a Redis Cluster, a client on
// each subscribed to 1,000 names whose slots cover every master; every
// SPUBLISH and every API publish reaches each client exactly once.
func TestClusterDeliversOnce(t *testing.T) {
	t.Parallel()
	rc := testcluster.Start(t)
	cfgA := clusterConfig(t, rc)
	cfgB := secondNode(t, cfgA)
	a, b := startRouter(t, cfgA), startRouter(t, cfgB)

	rdb := rc.Client(t)
	ctx := context.Background()
	const n = 1000
	names := make([]string, n)
	owners := map[string]bool{}
	for i := range names {
		names[i] = fmt.Sprintf("books.n%d", i)
		c, err := rdb.MasterForKey(ctx, names[i])
		if err != nil {
			t.Fatal(err)
		}
		owners[c.Options().Addr] = true
	}
	if masters := rc.Masters(t); len(owners) != len(masters) {
		t.Fatalf("the names cover %d of %d masters", len(owners), len(masters))
	}
	clients := []*wstest.Client{wstest.Dial(t, a.url()), wstest.Dial(t, b.url())}
	for _, c := range clients {
		subscribeAll(t, c, names)
	}

	for _, name := range names {
		if err := spublish(ctx, rdb, name, map[string]any{"src": "spublish"}); err != nil {
			t.Fatal(err)
		}
	}
	batch := make([]map[string]any, n)
	for i, name := range names {
		batch[i] = map[string]any{"subscription": name, "data": map[string]any{"src": "api"}}
	}
	apiOK(t, cfgA, "POST", "/api/publish_batch", map[string]any{"messages": batch})

	for i, c := range clients {
		got := map[string]int{}
		for range 2 * n {
			m := c.Read()
			src, _ := m["data"].(map[string]any)["src"].(string)
			got[fmt.Sprint(m["subscription"], "/", src)]++
		}
		c.Quiet(300 * time.Millisecond)
		for _, name := range names {
			for _, src := range []string{"spublish", "api"} {
				if k := name + "/" + src; got[k] != 1 {
					t.Errorf("client %d: %s delivered %d times, want once", i, k, got[k])
				}
			}
		}
	}
	for _, p := range []*routerProc{a, b} {
		if v := p.metricText(); !strings.Contains(v, `wsrouter_redis_up{shard=`) {
			t.Errorf("no wsrouter_redis_up{shard} series:\n%s", v)
		}
	}
}

// metricText is the router's wsrouter_redis_up lines.
func (p *routerProc) metricText() string {
	_, body, err := p.get("/metrics")
	if err != nil {
		p.t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "wsrouter_redis_up") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestClusterAPI: on a Redis Cluster, the API's node records, control
// commands and history work across two router nodes: info lists both, a
// disconnect sent to one node closes the matching sessions on both, and
// the history of a name answers what was published through the API.
func TestClusterAPI(t *testing.T) {
	t.Parallel()
	rc := testcluster.Start(t)
	svc := wstest.NewService(t)
	svc.On("/ticket", func(body map[string]any) (int, any) {
		return http.StatusOK, map[string]any{"status": "ok", "user_id": body["ticket"]}
	})
	cfgA := clusterConfig(t, rc)
	cfgA["authentication"] = apiConfig(t, "", svc)["authentication"]
	cfgB := secondNode(t, cfgA)
	a, b := startRouter(t, cfgA), startRouter(t, cfgB)
	waitNodes(t, cfgA, 2, 10*time.Second)
	waitNodes(t, cfgB, 2, 10*time.Second)

	const name = "books.shelf"
	a1, a2 := userClient(t, a, "u1", name), userClient(t, a, "u2", name)
	b1, b2 := userClient(t, b, "u1", name), userClient(t, b, "u2", name)
	apiOK(t, cfgB, "POST", "/api/disconnect", map[string]any{"match": map[string]any{"user_id": "u1"}})
	for _, c := range []*wstest.Client{a1, b1} {
		if code := c.ClosedWithin(5 * time.Second); code != 4000 {
			t.Errorf("close code %d, want 4000", code)
		}
	}
	expectPong(t, a2, "still here")
	expectPong(t, b2, "still here")

	var offsets []string
	for i := range 3 {
		ans := apiOK(t, cfgA, "POST", "/api/publish", map[string]any{"subscription": "hist.h1", "data": numbered(i)})
		offsets = append(offsets, ans["offsets"].(map[string]any)["hist.h1"].(string))
	}
	ans := apiOKWith(t, cfgB, "GET", "/api/history?subscription=hist.h1&since="+url.QueryEscape(offsets[0]))
	msgs := ans["messages"].([]any)
	if len(msgs) != 2 || ans["offset"] != offsets[2] {
		t.Fatalf("history after the first offset: %v, want the last two and newest %s", ans, offsets[2])
	}
}
