package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/testrouter"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// exampleConfig is config.yaml as shipped, pointed at the test's service
// and Redis; the router's listen address is chosen by testrouter.
func exampleConfig(t *testing.T, serviceURL, redisURL string) string {
	t.Helper()
	b, err := os.ReadFile("config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b)
	for _, r := range []struct{ old, new string }{
		{"listen: 127.0.0.1:9000\n", ""},
		{"url: embedded", "url: " + redisURL},
		{"127.0.0.1:8000", strings.TrimPrefix(serviceURL, "http://")}, // callbacks and allowed_origins
	} {
		if !strings.Contains(cfg, r.old) {
			t.Fatalf("config.yaml no longer contains %q; update the test", r.old)
		}
		cfg = strings.ReplaceAll(cfg, r.old, r.new)
	}
	return cfg
}

// post sends a JSON body to the service and decodes its answer.
func post(t *testing.T, url, body string) map[string]any {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	if err := jsonDecode(res, &m); err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return m
}

// login connects to the router and authenticates as user with a ticket
// from the service, as the page's script does.
func login(t *testing.T, r *testrouter.Router, serviceURL, user string) *wstest.Client {
	t.Helper()
	tk := post(t, serviceURL+"/ticket", `{"user":"`+user+`"}`)["ticket"]
	c := wstest.DialWith(t, r.URL(), wstest.Options{Origin: serviceURL})
	c.Send(map[string]any{"event": "auth", "method": "ticket", "ticket": tk})
	c.Expect(`{"event":"auth","status":"ok"}`)
	return c
}

// scenario runs what the README describes against an orders service at
// serviceURL publishing to rds: the owner subscribes and sees a change,
// others are refused, tickets are single-use.
func scenario(t *testing.T, serviceURL string, rds *testredis.Server) {
	r := testrouter.Start(t, "", exampleConfig(t, serviceURL, rds.URL()))

	alice := login(t, r, serviceURL, "alice")
	alice.Send(map[string]any{"event": "subscribe", "subscription": "orders.42"})
	alice.Expect(`{"event":"subscribe","subscription":"orders.42","status":"ok","data":{"id":"42","owner":"alice","status":"open","version":1}}`)

	bob := login(t, r, serviceURL, "bob")
	bob.Send(map[string]any{"event": "subscribe", "subscription": "orders.42"})
	bob.Expect(`{"event":"subscribe","subscription":"orders.42","status":"error","error":"Unauthorized."}`)
	bob.Send(map[string]any{"event": "subscribe", "subscription": "orders.7"})
	bob.Expect(`{"event":"subscribe","subscription":"orders.7","status":"error","error":"Unauthorized."}`)

	post(t, serviceURL+"/orders/pay", `{"id":"42"}`)
	alice.Expect(`{"event":"message","subscription":"orders.42","data":{"id":"42","owner":"alice","status":"paid","version":2}}`)

	anon := wstest.DialWith(t, r.URL(), wstest.Options{Origin: serviceURL})
	anon.Send(map[string]any{"event": "subscribe", "subscription": "orders.42"})
	anon.Expect(`{"event":"subscribe","subscription":"orders.42","status":"error","error":"Authentication required."}`)
	tk := post(t, serviceURL+"/ticket", `{"user":"alice"}`)["ticket"]
	for i, want := range []string{
		`{"event":"auth","status":"ok"}`,
		`{"event":"auth","status":"error","error":"Invalid ticket."}`, // used once already
	} {
		c := wstest.DialWith(t, r.URL(), wstest.Options{Origin: serviceURL})
		c.Send(map[string]any{"event": "auth", "ticket": tk})
		if got := c.Read(); !wstest.SameJSON(got, json.RawMessage(want)) {
			t.Errorf("auth %d with one ticket: got %v, want %s", i+1, got, want)
		}
	}
}

// TestGoService runs the Go service of this directory behind the router.
func TestGoService(t *testing.T) {
	t.Parallel()
	rds := testredis.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rds.Addr})
	t.Cleanup(func() { rdb.Close() })
	srv := httptest.NewServer(newService(rdb).handler())
	t.Cleanup(srv.Close)
	scenario(t, srv.URL, rds)
}

// TestPythonService runs orders.py, with the python3 on PATH, behind the
// router.
func TestPythonService(t *testing.T) {
	t.Parallel()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found; skipping the Python example (CI installs it)")
	}
	rds := testredis.Start(t)
	addr := testrouter.FreeAddr(t)
	var log testrouter.Buffer
	cmd := exec.Command(python, "orders.py")
	cmd.Env = append(os.Environ(), "LISTEN="+addr, "REDIS_ADDR="+rds.Addr, "PYTHONDONTWRITEBYTECODE=1")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("orders.py output:\n%s", log.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("orders.py exited at start:\n%s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("orders.py not listening after 15s:\n%s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	scenario(t, "http://"+addr, rds)
}
