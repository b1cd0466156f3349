package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/wsrouter/wsrouter/internal/testjwks"
	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// TestHighTemplarStyleApp runs the built router as an app coming from
// high-templar would: the browser's cookie is checked at connect, the app
// answers with the rooms the user may join ('*' allowed), and a staff
// member holds a wildcard room that receives every customer's chat.
func TestHighTemplarStyleApp(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	app := wstest.NewService(t)
	app.On("/connect", func(body map[string]any) (int, any) {
		headers, _ := body["headers"].(map[string]any)
		switch headers["Cookie"] {
		case "session=staff":
			return 200, map[string]any{"status": "ok", "user_id": "staff", "allowed_subscriptions": []string{"chat.*"}}
		case "session=cust1":
			return 200, map[string]any{"status": "ok", "user_id": "c1", "allowed_subscriptions": []string{"chat.customer_1"}}
		}
		return 200, map[string]any{"status": "error", "error": "Not signed in."}
	})
	cfg := baseConfig(t, rs.URL())
	cfg["authentication"] = map[string]any{"connect": map[string]any{
		"url": app.URL("/connect"), "forward_headers": []string{"Cookie"}, "auth_fields": []string{"user_id"},
	}}
	cfg.services()["chat"] = map[string]any{"require_allowed_subscription": true, "wildcard_subscriptions": true}
	p := startRouter(t, cfg)

	if code := wstest.DialStatus(p.url(), http.Header{"Cookie": {"session=forged"}}); code != http.StatusForbidden {
		t.Fatalf("forged cookie: HTTP %d, want 403", code)
	}
	dial := func(cookie string) *wstest.Client {
		return wstest.DialWith(t, p.url(), wstest.Options{Dial: &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {cookie}}}})
	}
	staff, cust := dial("session=staff"), dial("session=cust1")
	staff.Subscribe("chat.*", nil)
	cust.Subscribe("chat.customer_1", nil)
	for _, name := range []string{"chat.customer_2", "chat.*"} {
		cust.Send(map[string]any{"event": "subscribe", "subscription": name})
		cust.Expect(`{"event":"subscribe","subscription":"` + name + `","status":"error","error":"Unauthorized."}`)
	}
	pub := newPublisher(t, rs)
	pub.publish("chat.customer_1", "hello from 1")
	pub.publish("chat.customer_2", "hello from 2")
	cust.Expect(`{"event":"message","subscription":"chat.customer_1","data":"hello from 1"}`)
	// Names are fanned out in parallel: the two may come in either order.
	got := map[string]any{}
	for range 2 {
		m := staff.ExpectFields(map[string]any{"event": "message", "subscription": "chat.*"})
		got[m["channel"].(string)] = m["data"]
	}
	if got["chat.customer_1"] != "hello from 1" || got["chat.customer_2"] != "hello from 2" {
		t.Fatalf("staff got %v", got)
	}
	cust.Quiet(100 * time.Millisecond)
}

// TestJWTApp runs the built router with an HMAC secret file: a signed
// token authenticates, a forged one does not, and the claims reach the
// service's callbacks as auth fields.
func TestJWTApp(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	secret := []byte(strings.Repeat("z", 32))
	secretFile := filepath.Join(t.TempDir(), "jwt.secret")
	if err := os.WriteFile(secretFile, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	app := wstest.NewService(t)
	cfg := baseConfig(t, rs.URL())
	cfg["authentication"] = map[string]any{"jwt": map[string]any{
		"hmac_secret_file": secretFile, "issuer": "https://app.example.com", "auth_fields": []string{"sub"},
	}}
	cfg.services()["books"] = map[string]any{"authorizer": app.URL("/authorize")}
	p := startRouter(t, cfg)

	sign := func(key []byte, iss string) string {
		return testjwks.Sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{
			"sub": "user-42", "iss": iss, "exp": time.Now().Add(time.Hour).Unix(),
		})
	}
	c := wstest.Dial(t, p.url())
	for _, bad := range []string{sign([]byte(strings.Repeat("x", 32)), "https://app.example.com"), sign(secret, "https://evil.example.com")} {
		c.Send(map[string]any{"event": "auth", "method": "jwt", "token": bad})
		c.Expect(`{"event":"auth","status":"error","error":"Authentication failed."}`)
	}
	c.Send(map[string]any{"event": "auth", "method": "jwt", "token": sign(secret, "https://app.example.com")})
	c.Expect(`{"event":"auth","status":"ok"}`)
	c.Subscribe("books.b1", nil)
	calls := app.Calls("/authorize")
	if len(calls) != 1 || calls[0].Body["sub"] != "user-42" {
		t.Fatalf("authorizer calls = %+v", calls)
	}
}
