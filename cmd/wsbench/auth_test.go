package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func TestAuthEvents(t *testing.T) {
	t.Parallel()
	secretFile := filepath.Join(t.TempDir(), "s")
	secret := strings.Repeat("s", 32)
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	none := authConfig{}
	if ev, err := none.event(1); ev != nil || err != nil {
		t.Errorf("no method: %s %v", ev, err)
	}
	ticket := authConfig{method: "ticket"}
	if ev, _ := ticket.event(7); string(ev) != `{"event":"auth","ticket":"t7"}` {
		t.Errorf("ticket event = %s", ev)
	}
	j := authConfig{method: "jwt", secretFile: secretFile}
	if err := j.load(); err != nil {
		t.Fatal(err)
	}
	ev, err := j.event(3)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(ev, &m); err != nil || m["method"] != "jwt" {
		t.Fatalf("jwt event = %s", ev)
	}
	tok, err := jwt.Parse(m["token"], func(*jwt.Token) (any, error) { return []byte(secret), nil }, jwt.WithValidMethods([]string{"HS256"}))
	if err != nil || tok.Claims.(jwt.MapClaims)["sub"] != "c3" {
		t.Fatalf("token: %v %v", err, tok)
	}
	for _, bad := range []authConfig{{method: "jwt"}, {method: "password"}} {
		if err := bad.load(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// TestAuthSecretFile: the secret file is read as the router reads
// hmac_secret_file, and flags that do not fit together are refused.
func TestAuthSecretFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secret := strings.Repeat("s", 32)
	cases := []struct {
		name    string
		a       authConfig
		wantErr string // "" for none
	}{
		{"crlf ending", authConfig{method: "jwt", secretFile: write("crlf", secret+"\r\n")}, ""},
		{"short secret", authConfig{method: "jwt", secretFile: write("short", "s\n")}, "at least 32 bytes"},
		{"missing file", authConfig{method: "jwt", secretFile: filepath.Join(dir, "none")}, "no such file"},
		{"secret without jwt", authConfig{method: "ticket", secretFile: write("t", secret)}, "-jwt-secret-file needs -auth jwt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.a.load()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("load: %v", err)
			case tc.wantErr == "" && string(tc.a.secret) != secret:
				t.Fatalf("secret = %q, want %q", tc.a.secret, secret)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("load error = %v, want one with %q", err, tc.wantErr)
			}
		})
	}
}
