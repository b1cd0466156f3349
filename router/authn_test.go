package router

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wsrouter/wsrouter/control"
	"github.com/wsrouter/wsrouter/internal/testjwks"
	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/services"
)

// dialRefused dials with header and expects the upgrade to be refused;
// it returns the HTTP status and body.
func (h *harness) dialRefused(header http.Header) (int, string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, h.wsURL(""), &websocket.DialOptions{HTTPHeader: header})
	if err == nil {
		conn.CloseNow()
		h.t.Fatal("upgrade accepted, want it refused")
	}
	if resp == nil {
		h.t.Fatalf("dial: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// dialWith dials with header and query; the upgrade must succeed.
func (h *harness) dialWith(header http.Header, query string) *wstest.Client {
	h.t.Helper()
	return wstest.DialWith(h.t, h.wsURL(query), wstest.Options{Dial: &websocket.DialOptions{HTTPHeader: header}})
}

func connectConfig(t *testing.T, svc *wstest.Service, required bool) *services.Config {
	cfg := testConfig(t)
	cfg.HTTP.Tries = 2
	cfg.Authentication = &services.Authentication{Connect: &services.Connect{
		URL:            svc.URL("/connect"),
		ForwardHeaders: []string{"Cookie", "Authorization"},
		AuthFields:     []string{"user_id"},
		Required:       &required,
	}}
	cfg.Services["chat"] = &services.Service{Authorizer: svc.URL("/authorize")}
	return cfg
}

// connectApp answers the connect check by the session cookie.
func connectApp(body map[string]any) (int, any) {
	headers, _ := body["headers"].(map[string]any)
	switch headers["Cookie"] {
	case "session=alice":
		return 200, `{"status":"ok","user_id":1,"secret":"not kept"}`
	case "session=expired":
		return 200, `{"status":"error","error":"Session expired."}`
	case "session=bare":
		return 403, `{}`
	case "session=down":
		return 503, `oops`
	}
	return 200, `{"status":"error"}`
}

func cookie(v string) http.Header { return http.Header{"Cookie": {v}} }

func TestConnectAuth(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	svc.On("/connect", connectApp)
	h := newHarness(t, connectConfig(t, svc, true))

	t.Run("accepted: authenticated before the first frame", func(t *testing.T) {
		c := h.dialWith(http.Header{"Cookie": {"session=alice"}, "Authorization": {"Bearer x"}, "X-Private": {"no"}}, "?room=7&room=8")
		c.Send(`{"event":"subscribe","subscription":"chat.a"}`)
		c.Expect(`{"event":"subscribe","subscription":"chat.a","status":"ok"}`)
		calls := svc.Calls("/authorize")
		if len(calls) == 0 || !control.JSONEqual([]byte(calls[len(calls)-1].Raw), []byte(`{"subscription":"chat.a","user_id":1}`)) {
			t.Fatalf("authorizer calls = %+v", calls)
		}
		var found bool
		for _, call := range svc.Calls("/connect") {
			if strings.Contains(call.Raw, "session=alice") {
				found = true
				want := `{"headers":{"Cookie":"session=alice","Authorization":"Bearer x"},"remote_addr":"127.0.0.1","query":{"room":"7"}}`
				if !control.JSONEqual([]byte(call.Raw), []byte(want)) {
					t.Errorf("connect body = %s\nwant %s", call.Raw, want)
				}
			}
		}
		if !found {
			t.Error("no connect call with the cookie")
		}
	})
	cases := []struct {
		name, cookie string
		code         int
		body         string
	}{
		{"refused with the app's error", "session=expired", 403, `{"status":"error","error":"Session expired."}`},
		{"refused by a 4xx without text", "session=bare", 403, `{"status":"error","error":"Authentication failed."}`},
		{"refused without text", "session=none", 403, `{"status":"error","error":"Authentication failed."}`},
		{"app down", "session=down", 503, `{"status":"error","error":"Service unavailable."}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := h.dialRefused(cookie(tc.cookie))
			if code != tc.code || !control.JSONEqual([]byte(body), []byte(tc.body)) {
				t.Fatalf("refusal = %d %s, want %d %s", code, body, tc.code, tc.body)
			}
		})
	}
	m := h.r.metrics.ConnectAuth
	if ok, refused, down := testutil.ToFloat64(m.WithLabelValues("ok")), testutil.ToFloat64(m.WithLabelValues("refused")),
		testutil.ToFloat64(m.WithLabelValues("unavailable")); ok != 1 || refused != 3 || down != 1 {
		t.Errorf("wsrouter_connect_auth_total ok=%v refused=%v unavailable=%v, want 1 3 1", ok, refused, down)
	}
	if n := testutil.CollectAndCount(h.r.metrics.CallbackDuration, "wsrouter_callback_duration_seconds"); n == 0 {
		t.Error("no callback duration observed")
	}
}

// TestConnectAuthNotRequired: a refused or failed check opens the
// connection unauthenticated, and a later auth event works as before.
func TestConnectAuthNotRequired(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	svc.On("/connect", connectApp)
	cfg := connectConfig(t, svc, false)
	cfg.Authentication.Ticket = &services.Ticket{ValidationURL: svc.URL("/ticket"), AuthFields: []string{"user_id"}}
	svc.Answer("/ticket", 200, `{"status":"ok","user_id":2}`)
	h := newHarness(t, cfg)
	for _, ck := range []string{"session=expired", "session=down"} {
		c := h.dialWith(cookie(ck), "")
		c.Send(`{"event":"subscribe","subscription":"chat.a"}`)
		c.Expect(`{"event":"subscribe","subscription":"chat.a","status":"error","error":"Authentication required."}`)
		c.Send(`{"event":"auth","ticket":"t"}`)
		c.Expect(`{"event":"auth","status":"ok"}`)
		c.Send(`{"event":"subscribe","subscription":"chat.a"}`)
		c.Expect(`{"event":"subscribe","subscription":"chat.a","status":"ok"}`)
	}
	c := h.dialWith(cookie("session=alice"), "")
	c.Send(`{"event":"subscribe","subscription":"chat.a"}`)
	c.Expect(`{"event":"subscribe","subscription":"chat.a","status":"ok"}`)
}

// TestConnectAuthReload: a connect section added by a reload checks the
// next upgrade.
func TestConnectAuthReload(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	svc.On("/connect", connectApp)
	cfg := testConfig(t)
	h := newHarness(t, cfg)
	h.dialWith(cookie("session=expired"), "")
	next := connectConfig(t, svc, true)
	next.Redis = cfg.Redis
	if err := h.r.Reload(next); err != nil {
		t.Fatal(err)
	}
	if code, _ := h.dialRefused(cookie("session=expired")); code != 403 {
		t.Fatalf("after reload: %d, want 403", code)
	}
}

// jwtKeys writes an HMAC secret and an EC public key for the jwt method.
type jwtKeys struct {
	secret     []byte
	secretFile string
	ec         *ecdsa.PrivateKey
	pubFile    string
	authFields []string
}

func newJWTKeys(t *testing.T) *jwtKeys {
	t.Helper()
	dir := t.TempDir()
	k := &jwtKeys{secret: []byte(strings.Repeat("k", 32)), authFields: []string{"sub", "user_id"}}
	k.secretFile = filepath.Join(dir, "secret")
	if err := os.WriteFile(k.secretFile, k.secret, 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	if k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(k.ec.Public())
	k.pubFile = filepath.Join(dir, "pub.pem")
	if err := os.WriteFile(k.pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return k
}

func authJWT(tok string) string { return `{"event":"auth","method":"jwt","token":"` + tok + `"}` }

// TestJWTAuthKeyKinds: each kind of key signs a session in end to end;
// a bad token is "Authentication failed."; the claims become auth fields.
func TestJWTAuthKeyKinds(t *testing.T) {
	t.Parallel()
	k := newJWTKeys(t)
	rotated, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks := testjwks.Start(t, map[string]crypto.PublicKey{"k1": k.ec.Public()})
	claims := jwt.MapClaims{"sub": "u1", "user_id": 7, "iss": "https://id", "exp": time.Now().Add(time.Hour).Unix()}
	cases := []struct {
		name   string
		jwt    services.JWT
		good   func() string
		bad    string
		rotate func() string // a token that works only after the JWKS rotated
	}{
		{"hmac secret file", services.JWT{HMACSecretFile: k.secretFile, Issuer: "https://id"},
			func() string { return testjwks.SignWithKid(t, jwt.SigningMethodHS256, k.secret, "", claims) },
			testjwks.SignWithKid(t, jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), "", claims), nil},
		{"public key file", services.JWT{PublicKeyFile: k.pubFile},
			func() string { return testjwks.SignWithKid(t, jwt.SigningMethodES256, k.ec, "", claims) },
			testjwks.SignWithKid(t, jwt.SigningMethodHS256, k.secret, "", claims), nil},
		{"jwks url", services.JWT{JWKSURL: jwks.URL, Audience: "ws"},
			func() string {
				c := jwt.MapClaims{"aud": "ws"}
				for key, v := range claims {
					c[key] = v
				}
				return testjwks.SignWithKid(t, jwt.SigningMethodES256, k.ec, "k1", c)
			},
			testjwks.SignWithKid(t, jwt.SigningMethodES256, k.ec, "k1", claims), // no aud
			func() string {
				jwks.Set(t, map[string]crypto.PublicKey{"k2": rotated.Public()})
				return testjwks.SignWithKid(t, jwt.SigningMethodES256, rotated, "k2", jwt.MapClaims{"sub": "u2", "aud": "ws"})
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc := wstest.NewService(t)
			cfg := testConfig(t)
			j := tc.jwt
			j.AuthFields = k.authFields
			cfg.Authentication = &services.Authentication{JWT: &j}
			cfg.Services["books"] = &services.Service{Authorizer: svc.URL("/authorize")}
			h := newHarness(t, cfg)
			c := h.dial()
			c.Send(authJWT(tc.bad))
			c.Expect(`{"event":"auth","status":"error","error":"Authentication failed."}`)
			c.Send(`{"event":"auth","method":"jwt"}`)
			c.Expect(`{"event":"auth","status":"error","error":"Authentication failed."}`)
			c.Send(`{"event":"subscribe","subscription":"books.a"}`)
			c.Expect(`{"event":"subscribe","subscription":"books.a","status":"error","error":"Authentication required."}`)
			c.Send(authJWT(tc.good()))
			c.Expect(`{"event":"auth","status":"ok"}`)
			c.Send(`{"event":"subscribe","subscription":"books.a"}`)
			c.Expect(`{"event":"subscribe","subscription":"books.a","status":"ok"}`)
			if calls := svc.Calls("/authorize"); len(calls) != 1 || !control.JSONEqual([]byte(calls[0].Raw), []byte(`{"subscription":"books.a","sub":"u1","user_id":7}`)) {
				t.Fatalf("authorizer calls = %+v", calls)
			}
			if tc.rotate != nil {
				c.Send(authJWT(tc.rotate()))
				c.Expect(`{"event":"auth","status":"ok"}`)
				c.Send(authJWT(tc.good())) // k1 is gone from the set
				c.Expect(`{"event":"auth","status":"error","error":"Authentication failed."}`)
			}
		})
	}
}

// TestJWTExpiry: when exp passes, subscriptions of services that require
// authentication end with "Authentication expired." (others stay), unless
// a newer token came first.
func TestJWTExpiry(t *testing.T) {
	t.Parallel()
	k := newJWTKeys(t)
	cfg := testConfig(t)
	cfg.Authentication = &services.Authentication{JWT: &services.JWT{HMACSecretFile: k.secretFile, AuthFields: k.authFields}}
	open := false
	cfg.Services["books"] = &services.Service{}
	cfg.Services["news"] = &services.Service{RequireAuthentication: &open}
	h, clk := newManualHarness(t, cfg)
	token := func(exp time.Duration) string {
		return testjwks.SignWithKid(t, jwt.SigningMethodHS256, k.secret, "", jwt.MapClaims{"sub": "u1", "exp": clk.Now().Add(exp).Unix()})
	}

	t.Run("without refresh", func(t *testing.T) {
		c := h.dial()
		c.Send(authJWT(token(time.Minute)))
		c.Expect(`{"event":"auth","status":"ok"}`)
		c.Send(`{"event":"subscribe","subscription":"books.a"}`)
		c.Expect(`{"event":"subscribe","subscription":"books.a","status":"ok"}`)
		c.Send(`{"event":"subscribe","subscription":"news.a"}`)
		c.Expect(`{"event":"subscribe","subscription":"news.a","status":"ok"}`)
		clk.Advance(time.Minute)
		c.Expect(`{"event":"unsubscribe","subscription":"books.a","error":"Authentication expired."}`)
		c.Send(`{"event":"subscribe","subscription":"books.b"}`)
		c.Expect(`{"event":"subscribe","subscription":"books.b","status":"error","error":"Authentication required."}`)
		h.publish("news.a", `{"subscription":"news.a","data":1}`)
		c.Expect(`{"event":"message","subscription":"news.a","data":1}`)
	})
	t.Run("with refresh", func(t *testing.T) {
		c := h.dial()
		c.Send(authJWT(token(time.Minute)))
		c.Expect(`{"event":"auth","status":"ok"}`)
		c.Send(`{"event":"subscribe","subscription":"books.a"}`)
		c.Expect(`{"event":"subscribe","subscription":"books.a","status":"ok"}`)
		clk.Advance(50 * time.Second)
		c.Send(authJWT(token(time.Minute)))
		c.Expect(`{"event":"auth","status":"ok"}`)
		clk.Advance(20 * time.Second) // past the first token's exp
		c.Send(`{"event":"ping","data":"still"}`)
		c.Expect(`{"event":"pong","data":"still"}`)
		clk.Advance(40 * time.Second) // past the second's
		c.Expect(`{"event":"unsubscribe","subscription":"books.a","error":"Authentication expired."}`)
	})
	t.Run("an expired token is refused", func(t *testing.T) {
		c := h.dial()
		c.Send(authJWT(token(-time.Second)))
		c.Expect(`{"event":"auth","status":"error","error":"Authentication failed."}`)
	})
	t.Run("closing the connection stops its expiry timer", func(t *testing.T) {
		before := clk.Pending()
		c := h.dial()
		c.Send(authJWT(token(time.Hour)))
		c.Expect(`{"event":"auth","status":"ok"}`)
		if got := clk.Pending(); got <= before {
			t.Fatalf("%d timers pending after a token with exp, want more than the %d before", got, before)
		}
		c.Close()
		wstest.Eventually(t, 5*time.Second, "the connection's timers stopped", func() bool { return clk.Pending() == before })
	})
}

// TestAllowedSubscriptions: patterns from a ticket answer, a connect
// answer and a JWT claim gate services with require_allowed_subscription,
// after "Already subscribed." and before the authorizer.
func TestAllowedSubscriptions(t *testing.T) {
	t.Parallel()
	k := newJWTKeys(t)
	svc := wstest.NewService(t)
	svc.Answer("/ticket", 200, `{"status":"ok","user_id":1,"allowed_subscriptions":["chat.room_*","chat.lobby","chat.a?b"]}`)
	svc.Answer("/connect", 200, `{"status":"ok","allowed_subscriptions":["chat.*"]}`)
	cfg := testConfig(t)
	cfg.Authentication = &services.Authentication{
		Ticket:  &services.Ticket{ValidationURL: svc.URL("/ticket")},
		Connect: &services.Connect{URL: svc.URL("/connect")},
		JWT:     &services.JWT{HMACSecretFile: k.secretFile},
	}
	cfg.Services["chat"] = &services.Service{RequireAllowedSubscription: true, Authorizer: svc.URL("/authorize")}
	cfg.Services["books"] = &services.Service{}
	h := newHarness(t, cfg)

	c := h.dial() // the connect answer allows chat.*
	for _, name := range []string{"chat.x", "chat.room_1"} {
		c.Send(`{"event":"subscribe","subscription":"` + name + `"}`)
		c.Expect(`{"event":"subscribe","subscription":"` + name + `","status":"ok"}`)
	}
	c.Send(`{"event":"auth","ticket":"t"}`) // replaces them
	c.Expect(`{"event":"auth","status":"ok"}`)
	before := len(svc.Calls("/authorize"))
	cases := []struct {
		name string
		ok   bool
	}{
		{"chat.room_2", true}, {"chat.room_", true}, {"chat.lobby", true}, {"chat.a?b", true},
		{"chat.axb", false}, {"chat.lobby2", false}, {"chat.room", false}, {"chat.y", false},
		{"books.any", true}, // no require_allowed_subscription
	}
	for _, tc := range cases {
		c.Send(`{"event":"subscribe","subscription":"` + tc.name + `"}`)
		if tc.ok {
			c.Expect(`{"event":"subscribe","subscription":"` + tc.name + `","status":"ok"}`)
		} else {
			c.Expect(`{"event":"subscribe","subscription":"` + tc.name + `","status":"error","error":"Unauthorized."}`)
		}
	}
	if got := len(svc.Calls("/authorize")) - before; got != 4 {
		t.Errorf("authorizer calls = %d, want 4 (none for a refused name)", got)
	}
	c.Send(`{"event":"subscribe","subscription":"chat.x"}`) // held, though no longer allowed
	c.Expect(`{"event":"subscribe","subscription":"chat.x","status":"error","error":"Already subscribed."}`)

	c.Send(authJWT(testjwks.SignWithKid(t, jwt.SigningMethodHS256, k.secret, "", jwt.MapClaims{"allowed_subscriptions": []string{"chat.vip"}})))
	c.Expect(`{"event":"auth","status":"ok"}`)
	c.Send(`{"event":"subscribe","subscription":"chat.vip"}`)
	c.Expect(`{"event":"subscribe","subscription":"chat.vip","status":"ok"}`)
	c.Send(`{"event":"subscribe","subscription":"chat.room_9"}`)
	c.Expect(`{"event":"subscribe","subscription":"chat.room_9","status":"error","error":"Unauthorized."}`)
}

// TestConnectAuthLogsNoCredentials: the cookie and Authorization values a
// connect check forwards appear in no log line, at debug level, whether
// the check passes, is refused or fails.
func TestConnectAuthLogsNoCredentials(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	svc.On("/connect", connectApp)
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newHarnessWith(t, connectConfig(t, svc, true), Options{Logger: log})
	for _, ck := range []string{"session=alice", "session=expired", "session=down"} {
		header := http.Header{"Cookie": {ck}, "Authorization": {"Bearer s3cr3t-token"}}
		if ck == "session=alice" {
			h.dialWith(header, "")
		} else {
			h.dialRefused(header)
		}
	}
	for _, line := range logs.lines() {
		if strings.Contains(line, "session=alice") || strings.Contains(line, "session=expired") ||
			strings.Contains(line, "session=down") || strings.Contains(line, "s3cr3t") {
			t.Errorf("log line shows a credential: %s", line)
		}
	}
	if len(logs.lines()) == 0 {
		t.Error("nothing logged at debug level")
	}
}

// TestJWTReload: a reload that rotates the secret file refuses tokens of
// the old secret on the next auth event, and one that removes the method
// answers it as unsupported; sessions already signed in keep their
// subscriptions.
func TestJWTReload(t *testing.T) {
	t.Parallel()
	k := newJWTKeys(t)
	cfg := testConfig(t)
	cfg.Authentication = &services.Authentication{JWT: &services.JWT{HMACSecretFile: k.secretFile}}
	cfg.Services["books"] = &services.Service{}
	h := newHarness(t, cfg)
	oldToken := testjwks.SignWithKid(t, jwt.SigningMethodHS256, k.secret, "", jwt.MapClaims{"sub": "u1"})
	c := h.dial()
	c.Send(authJWT(oldToken))
	c.Expect(`{"event":"auth","status":"ok"}`)
	c.Subscribe("books.a", nil)

	rotated := []byte(strings.Repeat("r", 32))
	if err := os.WriteFile(k.secretFile, rotated, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.r.Reload(cfg); err != nil { // the same configuration: the file is read again
		t.Fatal(err)
	}
	c.Send(authJWT(oldToken))
	c.Expect(`{"event":"auth","status":"error","error":"Authentication failed."}`)
	c.Send(authJWT(testjwks.SignWithKid(t, jwt.SigningMethodHS256, rotated, "", jwt.MapClaims{"sub": "u1"})))
	c.Expect(`{"event":"auth","status":"ok"}`)

	next := *cfg
	next.Authentication = nil
	if err := h.r.Reload(&next); err != nil {
		t.Fatal(err)
	}
	c.Send(authJWT(oldToken))
	c.Expect(`{"event":"auth","status":"error","error":"Authentication method unsupported."}`)
	h.publish("books.a", `{"subscription":"books.a","data":1}`)
	c.Expect(`{"event":"message","subscription":"books.a","data":1}`)
}

// TestConnectAuthOnlyForUpgrades: a request that is not a WebSocket
// upgrade (a load balancer's health check on this port) costs the app no
// connect check, and is refused as before.
func TestConnectAuthOnlyForUpgrades(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	svc.On("/connect", connectApp)
	h := newHarness(t, connectConfig(t, svc, true))
	resp, err := http.Get(h.srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols || resp.StatusCode == http.StatusForbidden {
		t.Errorf("plain GET answered %d", resp.StatusCode)
	}
	if calls := svc.Calls("/connect"); len(calls) != 0 {
		t.Errorf("connect calls for a plain GET: %d", len(calls))
	}
}

// TestConnectAuthTrustedProxy: with trusted_proxies listing the peer, the
// connect body's remote_addr is the client X-Forwarded-For names; without
// it, the header is ignored.
func TestConnectAuthTrustedProxy(t *testing.T) {
	t.Parallel()
	for _, trusted := range []bool{false, true} {
		svc := wstest.NewService(t)
		svc.On("/connect", connectApp)
		cfg := connectConfig(t, svc, true)
		want := "127.0.0.1"
		if trusted {
			cfg.Authentication.Connect.TrustedProxies = []string{"127.0.0.0/8"}
			want = "203.0.113.5"
		}
		h := newHarness(t, cfg)
		h.dialWith(http.Header{"Cookie": {"session=alice"}, "X-Forwarded-For": {"198.51.100.1, 203.0.113.5"}}, "")
		calls := svc.Calls("/connect")
		if len(calls) != 1 || calls[0].Body["remote_addr"] != want {
			t.Errorf("trusted %v: connect calls %+v, want remote_addr %s", trusted, calls, want)
		}
	}
}
