package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// apiKey is the HTTP API key of the test configurations.
const apiKey = "e2e-api-key-5c0d9e7b"

// apiConfig is baseConfig with the HTTP API on, ticket auth that gives the
// ticket's text as user_id, and a books service without authentication.
func apiConfig(t testing.TB, redisURL string, svc *wstest.Service) config {
	cfg := baseConfig(t, redisURL)
	cfg["api"] = map[string]any{"listen": freeAddr(t), "keys": []string{apiKey}}
	cfg["authentication"] = map[string]any{"ticket": map[string]any{
		"validation_url": svc.URL("/ticket"), "auth_fields": []string{"user_id"},
	}}
	cfg.services()["books"] = map[string]any{"require_authentication": false}
	return cfg
}

// apiCall sends a request to a router's API with the test key and returns
// the status and decoded answer.
func apiCall(t testing.TB, cfg config, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+cfg.section("api")["listen"].(string)+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := probeClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s %s: answer: %v", method, path, err)
	}
	return resp.StatusCode, m
}

// apiOK is apiCall that requires a 200 ok answer.
func apiOK(t testing.TB, cfg config, method, path string, body any) map[string]any {
	t.Helper()
	code, ans := apiCall(t, cfg, method, path, body)
	if code != http.StatusOK || ans["status"] != "ok" {
		t.Fatalf("%s %s: %d %v", method, path, code, ans)
	}
	return ans
}

// apiOKWith is apiOK without a body, with the first key of cfg.
func apiOKWith(t testing.TB, cfg config, method, path string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+cfg.section("api")["listen"].(string)+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := cfg.section("api")["keys"].([]string)
	req.Header.Set("Authorization", "Bearer "+keys[0])
	resp, err := probeClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusOK || m["status"] != "ok" {
		t.Fatalf("%s %s: %d %v %v", method, path, resp.StatusCode, m, err)
	}
	return m
}

// userClient connects to p, authenticates as user and subscribes to name.
func userClient(t testing.TB, p *routerProc, user, name string) *wstest.Client {
	t.Helper()
	c := wstest.Dial(t, p.url())
	if r := c.Request(map[string]any{"event": "auth", "ticket": user}); r["status"] != "ok" {
		t.Fatalf("auth as %s: %v", user, r)
	}
	c.Subscribe(name, nil)
	return c
}

// expectPong sends a ping and requires the pong as the next frame: nothing
// was queued for the client before it.
func expectPong(t testing.TB, c *wstest.Client, data string) {
	t.Helper()
	if r := c.Request(map[string]any{"event": "ping", "data": data}); r["event"] != "pong" || r["data"] != data {
		t.Fatalf("want pong %q as the next frame, got %v", data, r)
	}
}

// nodeIDs lists the ids info returns.
func nodeIDs(t testing.TB, cfg config) []string {
	t.Helper()
	ans := apiOKWith(t, cfg, "GET", "/api/info")
	var ids []string
	for _, n := range ans["nodes"].([]any) {
		ids = append(ids, n.(map[string]any)["id"].(string))
	}
	return ids
}

// waitNodes polls info on cfg's node until it lists n nodes.
func waitNodes(t testing.TB, cfg config, n int, within time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ids := nodeIDs(t, cfg)
		if len(ids) == n {
			return ids
		}
		if time.Now().After(deadline) {
			t.Fatalf("info lists %v, want %d nodes within %s", ids, n, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAPIAcrossTwoNodes runs two routers on one Redis, with clients of two
// users on each, and drives both through either node's API.
func TestAPIAcrossTwoNodes(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	svc := wstest.NewService(t)
	svc.On("/ticket", func(body map[string]any) (int, any) {
		return http.StatusOK, map[string]any{"status": "ok", "user_id": body["ticket"]}
	})
	cfgA := apiConfig(t, rs.URL(), svc)
	cfgB := apiConfig(t, rs.URL(), svc)
	a, b := launch(t, cfgA), launch(t, cfgB)
	a.waitReady(15 * time.Second)
	b.waitReady(15 * time.Second)

	const name = "books.shelf"
	a1, a2 := userClient(t, a, "u1", name), userClient(t, a, "u2", name)
	b1, b2 := userClient(t, b, "u1", name), userClient(t, b, "u2", name)
	all := []*wstest.Client{a1, a2, b1, b2}

	// info on either node lists both.
	waitNodes(t, cfgA, 2, 5*time.Second)
	waitNodes(t, cfgB, 2, 5*time.Second)

	// A publish through A reaches the clients of both nodes.
	ans := apiOK(t, cfgA, "POST", "/api/publish", map[string]any{"subscription": name, "data": "one"})
	if !wstest.SameJSON(ans["offsets"], map[string]any{}) {
		t.Errorf("offsets %v, want {}", ans["offsets"])
	}
	for _, c := range all {
		c.ExpectMessage(name, "one")
	}
	apiOK(t, cfgB, "POST", "/api/publish_batch", map[string]any{"messages": []any{
		map[string]any{"subscription": name, "data": "two"}, map[string]any{"subscription": name, "data": "three"},
	}})
	for _, c := range all {
		c.ExpectMessage(name, "two")
		c.ExpectMessage(name, "three")
	}

	// An unsubscribe sent to A ends u2's subscriptions on both nodes.
	apiOK(t, cfgA, "POST", "/api/unsubscribe", map[string]any{"subscription": name, "match": map[string]any{"user_id": "u2"}})
	for _, c := range []*wstest.Client{a2, b2} {
		ev := c.ReadWithin(5 * time.Second)
		want := map[string]any{"event": "unsubscribe", "subscription": name, "error": "Unsubscribed by the service."}
		if !wstest.SameJSON(ev, want) {
			t.Fatalf("want %v, got %v", want, ev)
		}
	}
	apiOK(t, cfgA, "POST", "/api/publish", map[string]any{"subscription": name, "data": "four"})
	a1.ExpectMessage(name, "four")
	b1.ExpectMessage(name, "four")
	expectPong(t, a2, "after unsubscribe")
	expectPong(t, b2, "after unsubscribe")

	// A disconnect by user_id sent to B closes u1's sessions on A and B
	// with 4000, and nobody else's.
	apiOK(t, cfgB, "POST", "/api/disconnect", map[string]any{"match": map[string]any{"user_id": "u1"}})
	for _, c := range []*wstest.Client{a1, b1} {
		if code := c.ClosedWithin(5 * time.Second); code != 4000 {
			t.Errorf("close code %d, want 4000", code)
		}
		if _, err := c.Ended(); closeReason(err) != "disconnected" {
			t.Errorf("close reason %q, want disconnected", closeReason(err))
		}
	}
	expectPong(t, a2, "still here")
	expectPong(t, b2, "still here")

	// info lists one node within a few seconds after the other is killed.
	b.signal(syscall.SIGKILL)
	b.waitExit(5 * time.Second)
	ids := waitNodes(t, cfgA, 1, 5*time.Second)
	if len(ids) != 1 {
		t.Fatalf("nodes after SIGKILL: %v", ids)
	}
	ans = apiOK(t, cfgA, "GET", "/api/info", nil)
	node := ans["nodes"].([]any)[0].(map[string]any)
	if node["connections"] != float64(1) || node["subscriptions"] != float64(0) || node["version"] == "" {
		t.Errorf("node A: %v, want 1 connection (u2, unsubscribed) and a version", node)
	}
}

// closeReason is the reason of a close frame, "" for none.
func closeReason(err error) string {
	var ce websocket.CloseError
	if !errors.As(err, &ce) {
		return ""
	}
	return ce.Reason
}

// TestAPIOneNode checks the key handling of the running binary: a reload
// applies new keys at once, and no key reaches the log or the metrics.
func TestAPIOneNode(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	svc := wstest.NewService(t)
	cfg := apiConfig(t, rs.URL(), svc)
	p := startRouter(t, cfg)

	c := wstest.Dial(t, p.url())
	c.Subscribe("books.x", nil)
	apiOK(t, cfg, "POST", "/api/publish", map[string]any{"subscription": "books.x", "data": 1})
	c.ExpectMessage("books.x", 1)

	// Hostile input answers its status and leaves the router serving. As
	// curl does for large bodies, requests wait for "100 Continue", so a
	// body refused unread is not sent.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, ExpectContinueTimeout: 5 * time.Second}}
	for _, body := range []string{`{"subscription":"nosuch.x","data":1}`, `[]`, `{"subscription":"books.x"}`, strings.Repeat("{", 1<<21)} {
		req, _ := http.NewRequest("POST", "http://"+cfg.section("api")["listen"].(string)+"/api/publish?key="+apiKey, strings.NewReader(body))
		req.Header.Set("Expect", "100-continue")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("key in the query: %d, want 401", resp.StatusCode)
		}
		req, _ = http.NewRequest("POST", "http://"+cfg.section("api")["listen"].(string)+"/api/publish", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+apiKey)
		req.Header.Set("Expect", "100-continue")
		if resp, err = client.Do(req); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("publish %.20q: %d, want 400 or 413", body, resp.StatusCode)
		}
	}
	apiOK(t, cfg, "POST", "/api/publish", map[string]any{"subscription": "books.x", "data": 2})
	c.ExpectMessage("books.x", 2)

	// A reload replaces the keys at once.
	const newKey = "e2e-new-key-8a1f2b3c"
	next := cfg.clone()
	next.section("api")["keys"] = []string{newKey}
	p.writeConfig(next)
	p.signal(syscall.SIGHUP)
	p.waitReloads(1, "SIGHUP")
	if code, _ := apiCall(t, cfg, "GET", "/api/info", nil); code != http.StatusUnauthorized {
		t.Errorf("old key after reload: %d, want 401", code)
	}
	req, _ := http.NewRequest("GET", "http://"+cfg.section("api")["listen"].(string)+"/api/info", nil)
	req.Header.Set("Authorization", "Bearer "+newKey)
	resp, err := probeClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("new key after reload: %d, want 200", resp.StatusCode)
	}

	// The status page lists the nodes of /api/info.
	ids := nodeIDs(t, next)
	if _, page, err := p.get("/status.json"); err != nil || len(ids) != 1 || !strings.Contains(page, `"id":"`+ids[0]+`"`) {
		t.Errorf("status.json does not list node %v (%v):\n%.400s", ids, err, page)
	}

	_, metrics, err := p.get("/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(metrics, `wsrouter_api_requests_total{code="200",endpoint="publish"} 2`) {
		t.Errorf("metrics lack the publish count:\n%s", grepLines(metrics, "wsrouter_api"))
	}
	for _, key := range []string{apiKey, newKey} {
		if strings.Contains(metrics, key) || strings.Contains(p.logs.text(), key) {
			t.Errorf("key %s... appears in the metrics or the log", key[:8])
		}
	}
}
