package services

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuthenticationKeys checks every problem the connect and jwt sections
// can have, each reported at its key path, and the valid forms.
func TestAuthenticationKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	writeFile(t, secret, []byte(strings.Repeat("s", 32)+"\n"))
	short := filepath.Join(dir, "short")
	writeFile(t, short, []byte("hunter2"))
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(key.Public())
	pub := filepath.Join(dir, "pub.pem")
	writeFile(t, pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	privDER, _ := x509.MarshalECPrivateKey(key)
	priv := filepath.Join(dir, "priv.pem")
	writeFile(t, priv, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: privDER}))

	tests := []struct{ name, src, path, want string }{
		{"connect valid", "authentication: {connect: {url: 'http://app/c', forward_headers: [Cookie, Authorization], auth_fields: [user_id], required: false, trusted_proxies: [10.0.0.0/8, '::1']}}", "", ""},
		{"connect without url", "authentication: {connect: {forward_headers: [Cookie]}}", "authentication.connect.url", "required when authentication.connect is set"},
		{"connect bad url", "authentication: {connect: {url: 'app/c'}}", "authentication.connect.url", "must be an absolute http or https URL"},
		{"connect bad header", "authentication: {connect: {url: 'http://a/', forward_headers: ['Bad Header']}}", "authentication.connect.forward_headers[0]", "must be an HTTP header name"},
		{"connect duplicate header", "authentication: {connect: {url: 'http://a/', forward_headers: [Cookie, Cookie]}}", "authentication.connect.forward_headers[1]", "duplicate field"},
		{"connect bad proxy", "authentication: {connect: {url: 'http://a/', trusted_proxies: [proxy.local]}}", "authentication.connect.trusted_proxies[0]", `must be an IP address or a CIDR prefix, got "proxy.local"`},
		{"connect required not a bool", "authentication: {connect: {url: 'http://a/', required: maybe}}", "authentication.connect.required", "must be true or false"},
		{"connect unknown key", "authentication: {connect: {url: 'http://a/', forward: [Cookie]}}", "authentication.connect.forward", "unknown key"},
		{"jwt hmac", "authentication: {jwt: {hmac_secret_file: " + secret + ", issuer: i, audience: a, auth_fields: [sub]}}", "", ""},
		{"jwt public key", "authentication: {jwt: {public_key_file: " + pub + "}}", "", ""},
		{"jwt jwks", "authentication: {jwt: {jwks_url: 'https://id.example.com/.well-known/jwks.json'}}", "", ""},
		{"jwt without key", "authentication: {jwt: {issuer: i}}", "authentication.jwt", "needs one of hmac_secret_file, public_key_file or jwks_url"},
		{"jwt two keys", "authentication: {jwt: {hmac_secret_file: " + secret + ", jwks_url: 'https://id/'}}", "authentication.jwt.jwks_url", "set only one of"},
		{"jwt short secret", "authentication: {jwt: {hmac_secret_file: " + short + "}}", "authentication.jwt.hmac_secret_file", "must be at least 32 bytes, got 7"},
		{"jwt missing secret", "authentication: {jwt: {hmac_secret_file: " + filepath.Join(dir, "nope") + "}}", "authentication.jwt.hmac_secret_file", "cannot read"},
		{"jwt private key", "authentication: {jwt: {public_key_file: " + priv + "}}", "authentication.jwt.public_key_file", "is not a public key"},
		{"jwt bad jwks url", "authentication: {jwt: {jwks_url: 'ftp://id/'}}", "authentication.jwt.jwks_url", "must be an absolute http or https URL"},
		{"jwt duplicate field", "authentication: {jwt: {jwks_url: 'https://id/', auth_fields: [sub, sub]}}", "authentication.jwt.auth_fields[1]", "duplicate field"},
		{"require_allowed_subscription", "services: {chat: {require_allowed_subscription: true}}", "", ""},
		{"wildcard_subscriptions", "services: {chat: {wildcard_subscriptions: true}}", "", ""},
		{"wildcard_subscriptions not a bool", "services: {chat: {wildcard_subscriptions: yes please}}", "services.chat.wildcard_subscriptions", "must be true or false"},
		{"require_allowed_subscription not a bool", "services: {chat: {require_allowed_subscription: 1}}", "services.chat.require_allowed_subscription", "must be true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.path == "" {
				mustParse(t, tt.src)
				return
			}
			p := onlyProblem(t, tt.src, tt.path, tt.want)
			if strings.Contains(p.Message, strings.Repeat("s", 32)) || strings.Contains(p.Message, "hunter2") {
				t.Errorf("problem shows the secret: %q", p.Message)
			}
		})
	}
}

// TestAuthenticationProblemsTogether: -check reports every problem of the
// new sections at once.
func TestAuthenticationProblemsTogether(t *testing.T) {
	t.Parallel()
	ps := problemsOf(t, "authentication:\n  connect: {trusted_proxies: [x]}\n  jwt: {auth_fields: ['']}\n")
	for _, path := range []string{"authentication.connect.url", "authentication.connect.trusted_proxies[0]", "authentication.jwt", "authentication.jwt.auth_fields[0]"} {
		findProblem(t, ps, path)
	}
}

func TestDiffNewAuthentication(t *testing.T) {
	t.Parallel()
	base := func() *Config {
		c := Default()
		c.Authentication = &Authentication{Connect: &Connect{URL: "http://a/"}, JWT: &JWT{JWKSURL: "http://k/"}}
		return c
	}
	no := false
	for name, change := range map[string]func(*Config){
		"connect url":      func(c *Config) { c.Authentication.Connect.URL = "http://b/" },
		"connect required": func(c *Config) { c.Authentication.Connect.Required = &no },
		"connect proxies":  func(c *Config) { c.Authentication.Connect.TrustedProxies = []string{"10.0.0.1"} },
		"jwt audience":     func(c *Config) { c.Authentication.JWT.Audience = "x" },
		"jwt removed":      func(c *Config) { c.Authentication.JWT = nil },
	} {
		next := base()
		change(next)
		if got := Diff(base(), next); len(got.Other) != 1 || got.Other[0] != "authentication" {
			t.Errorf("%s: Diff = %+v", name, got)
		}
	}
	if got := Diff(base(), base()); !got.Empty() {
		t.Errorf("no change: Diff = %+v", got)
	}
}
